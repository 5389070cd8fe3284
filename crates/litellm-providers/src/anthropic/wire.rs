//! Anthropic Messages API's request wire format, typed: the `/v1/messages` body, its messages,
//! content blocks, tools and tool choice. Fields are serialized in declaration order; `None` and
//! empty fields are left out. Blocks, tools and tool choices a client sent in Anthropic's own
//! shape are forwarded as they are (`Raw`).

use serde::Serialize;
use serde_json::Value;

use litellm_core::wire_struct;

wire_struct! {
    /// A `/v1/messages` body (before the client's extra fields are merged in).
    #[derive(Debug, Serialize)]
    pub(super) struct MessagesRequest {
        pub(super) model: String,
        pub(super) messages: Vec<MessageParam>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub(super) system: Vec<Block>,
        pub(super) max_tokens: u64,
        /// `{"type": "enabled", "budget_tokens": n}`, or the client's own `thinking` object.
        pub(super) thinking?: Value,
        pub(super) temperature?: f64,
        pub(super) top_p?: f64,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub(super) stop_sequences: Vec<String>,
        pub(super) metadata?: Metadata,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        pub(super) stream: bool,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub(super) tools: Vec<ToolParam>,
        pub(super) tool_choice?: ToolChoiceParam,
    }
}

/// The request `metadata`.
#[derive(Debug, Serialize)]
pub(super) struct Metadata {
    pub(super) user_id: String,
}

/// One message: a role and its content blocks.
#[derive(Debug, Serialize)]
pub(super) struct MessageParam {
    pub(super) role: &'static str,
    pub(super) content: Vec<Block>,
}

/// A content block.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Block {
    Text {
        text: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    Image {
        source: Source,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    Document {
        source: Source,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    ToolResult {
        tool_use_id: String,
        content: ToolResultContent,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// A block already in Anthropic's shape (thinking blocks, unknown parts): forwarded.
    #[serde(untagged)]
    Raw(Value),
}

impl Block {
    /// A text block without cache control.
    pub(super) fn text(text: impl Into<String>) -> Self {
        Block::Text {
            text: text.into(),
            cache_control: None,
        }
    }

    /// Sets the block's `cache_control` (a raw block that is not an object is left alone).
    pub(super) fn set_cache_control(&mut self, cache: Value) {
        match self {
            Block::Text { cache_control, .. }
            | Block::Image { cache_control, .. }
            | Block::Document { cache_control, .. }
            | Block::ToolUse { cache_control, .. }
            | Block::ToolResult { cache_control, .. } => *cache_control = Some(cache),
            Block::Raw(Value::Object(map)) => {
                map.insert("cache_control".into(), cache);
            }
            Block::Raw(_) => {}
        }
    }
}

/// Where an image or document comes from.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Source {
    Base64 { media_type: String, data: String },
    Url { url: String },
    File { file_id: String },
}

/// A tool result's content: text, or blocks.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum ToolResultContent {
    Text(String),
    Blocks(Vec<Block>),
}

/// A tool definition.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum ToolParam {
    Function {
        name: String,
        input_schema: Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// Anthropic's own tool types (`web_search_20250305`, ...) and tools already in its shape.
    Raw(Value),
}

/// How the model may use tools.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum ToolChoiceParam {
    Typed {
        /// `auto`, `any`, `none` or `tool`.
        #[serde(rename = "type")]
        kind: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// A client's own tool choice object.
    Raw(Value),
}

impl ToolChoiceParam {
    /// A choice of `kind` without a tool name.
    pub(super) fn mode(kind: &'static str) -> Self {
        ToolChoiceParam::Typed {
            kind,
            name: None,
            disable_parallel_tool_use: None,
        }
    }

    /// The choice of the named tool.
    pub(super) fn tool(name: String) -> Self {
        ToolChoiceParam::Typed {
            kind: "tool",
            name: Some(name),
            disable_parallel_tool_use: None,
        }
    }

    /// Sets `disable_parallel_tool_use` unless the choice is `none` (or not an object).
    pub(super) fn set_parallel(&mut self, parallel: bool) {
        match self {
            ToolChoiceParam::Typed {
                kind,
                disable_parallel_tool_use,
                ..
            } => {
                if *kind != "none" {
                    *disable_parallel_tool_use = Some(!parallel);
                }
            }
            ToolChoiceParam::Raw(Value::Object(c)) => {
                if c.get("type").and_then(Value::as_str) != Some("none") {
                    c.insert("disable_parallel_tool_use".into(), Value::Bool(!parallel));
                }
            }
            ToolChoiceParam::Raw(_) => {}
        }
    }
}
