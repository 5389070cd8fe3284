//! Responses input items ([`InputItem`]): messages (the "easy" form without `type` too),
//! `function_call`, `function_call_output`, `reasoning`, and any other item kept as raw JSON
//! (refused when translating, naming its type).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use litellm_core::JsonMap;

/// One input item, by its `type` (an item without `type` but with a `role` is a message).
#[derive(Debug, Clone, PartialEq)]
pub enum InputItem {
    Message(InputMessage),
    FunctionCall(FunctionCallItem),
    FunctionCallOutput(FunctionCallOutputItem),
    /// A `reasoning` item from an earlier response: skipped when translating.
    Reasoning(JsonMap),
    /// Any other item type (`item_reference`, `web_search_call`, ...), as sent.
    Other(JsonMap),
}

impl InputItem {
    /// The item's `type` as on the wire.
    pub fn kind(&self) -> &str {
        match self {
            InputItem::Message(_) => "message",
            InputItem::FunctionCall(_) => "function_call",
            InputItem::FunctionCallOutput(_) => "function_call_output",
            InputItem::Reasoning(_) => "reasoning",
            InputItem::Other(m) => m.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// A message item: `role` `user`, `assistant`, `system` or `developer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputMessage {
    pub role: String,
    pub content: InputContent,
    /// `id`, `status`, `phase` and other fields, kept.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// Message content: a string or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InputContent {
    Text(String),
    Parts(Vec<InputPart>),
}

/// One content part; a part of a type we do not model is kept as raw JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InputPart {
    Known(KnownInputPart),
    Other(Value),
}

/// The content parts of input (and replayed output) messages, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KnownInputPart {
    InputText {
        text: String,
    },
    /// Text of an earlier assistant message (`annotations`, `logprobs` kept in `extra`).
    OutputText {
        text: String,
        #[serde(flatten)]
        extra: JsonMap,
    },
    Refusal {
        refusal: String,
    },
    InputImage {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    InputFile {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_data: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
    },
}

/// A `function_call` item: a tool call of an earlier assistant turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallItem {
    pub call_id: String,
    pub name: String,
    #[serde(default)]
    pub arguments: String,
    /// `id` (`fc_...`), `status`, kept.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A `function_call_output` item: the result of a tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallOutputItem {
    pub call_id: String,
    pub output: FunctionOutput,
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A tool result: a string, or a list of `input_text` / `input_image` / `input_file` parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FunctionOutput {
    Text(String),
    Parts(Vec<InputPart>),
}

fn typed<T: serde::de::DeserializeOwned, E: serde::de::Error>(
    obj: JsonMap,
    kind: &str,
) -> Result<T, E> {
    serde_json::from_value(Value::Object(obj))
        .map_err(|e| E::custom(format!("invalid {kind} input item: {e}")))
}

impl<'de> Deserialize<'de> for InputItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Value::Object(mut obj) = Value::deserialize(d)? else {
            return Err(D::Error::custom("an input item must be an object"));
        };
        let kind = match obj.get("type") {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) if obj.contains_key("role") => "message".to_string(),
            _ => return Err(D::Error::custom("an input item needs a string `type`")),
        };
        match kind.as_str() {
            "message" => {
                obj.remove("type");
                typed(obj, "message").map(InputItem::Message)
            }
            "function_call" => {
                obj.remove("type");
                typed(obj, "function_call").map(InputItem::FunctionCall)
            }
            "function_call_output" => {
                obj.remove("type");
                typed(obj, "function_call_output").map(InputItem::FunctionCallOutput)
            }
            "reasoning" => Ok(InputItem::Reasoning(obj)),
            _ => Ok(InputItem::Other(obj)),
        }
    }
}

fn tagged<T: Serialize, E: serde::ser::Error>(kind: &str, v: &T) -> Result<Value, E> {
    let mut obj = JsonMap::new();
    obj.insert("type".into(), Value::String(kind.into()));
    match serde_json::to_value(v).map_err(E::custom)? {
        Value::Object(m) => obj.extend(m),
        _ => return Err(E::custom("an input item must serialize to an object")),
    }
    Ok(Value::Object(obj))
}

impl Serialize for InputItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = match self {
            InputItem::Message(m) => tagged(self.kind(), m)?,
            InputItem::FunctionCall(f) => tagged(self.kind(), f)?,
            InputItem::FunctionCallOutput(f) => tagged(self.kind(), f)?,
            InputItem::Reasoning(m) | InputItem::Other(m) => Value::Object(m.clone()),
        };
        v.serialize(s)
    }
}
