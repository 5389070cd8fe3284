//! Gemini's `GenerateContentResponse` as read, typed: a whole answer or one stream event, its
//! candidates and their parts, the prompt feedback and the usage metadata. Every field is read
//! leniently (a value of another shape counts as missing, as reading a `serde_json::Value` with
//! `get`/`as_str` did), and candidates and parts that are not objects read as empty ones.

use serde::Deserialize;
use serde_json::Value;

use crate::response_common::{present, read_object, Loose};

/// A `GenerateContentResponse` (or one streamed event).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct GenerateContentResponse {
    candidates: Loose<Vec<Value>>,
    prompt_feedback: Loose<PromptFeedback>,
    #[serde(deserialize_with = "present")]
    pub(super) usage_metadata: Option<Value>,
    pub(super) model_version: Loose<String>,
    #[serde(deserialize_with = "present")]
    pub(super) response_id: Option<Value>,
}

impl GenerateContentResponse {
    /// The candidates, each with its index (its place in the list when it names none).
    pub(super) fn candidates(&self) -> Vec<(u64, Candidate)> {
        let list = self.candidates.0.as_deref().unwrap_or_default();
        list.iter()
            .enumerate()
            .map(|(i, c)| {
                let candidate: Candidate = read_object(c);
                (candidate.index.0.unwrap_or(i as u64), candidate)
            })
            .collect()
    }

    /// Whether the prompt was blocked (`promptFeedback.blockReason` is there).
    pub(super) fn blocked(&self) -> bool {
        self.prompt_feedback
            .0
            .as_ref()
            .is_some_and(|f| f.block_reason.is_some())
    }
}

/// `promptFeedback`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct PromptFeedback {
    #[serde(deserialize_with = "present")]
    block_reason: Option<Value>,
}

/// One candidate.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct Candidate {
    index: Loose<u64>,
    pub(super) finish_reason: Loose<String>,
    pub(super) finish_message: Loose<String>,
    content: Loose<CandidateContent>,
    #[serde(deserialize_with = "present")]
    pub(super) grounding_metadata: Option<Value>,
    #[serde(deserialize_with = "present")]
    pub(super) safety_ratings: Option<Value>,
}

/// A candidate's `content`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CandidateContent {
    parts: Loose<Vec<Value>>,
}

/// One part of a candidate's content.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Part {
    #[serde(deserialize_with = "present")]
    function_call: Option<FunctionCallPart>,
    text: Loose<String>,
    thought: Loose<bool>,
}

/// A part's `functionCall`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FunctionCallPart {
    name: Loose<String>,
    args: Loose<Value>,
}

/// What a candidate's parts say, in order: its text, its thought text, and its function calls
/// (name, and arguments as a JSON string: `{}` when it has none).
#[derive(Debug, Default)]
pub(super) struct PartsRead {
    pub(super) text: String,
    pub(super) reasoning: String,
    pub(super) calls: Vec<(String, String)>,
}

impl Candidate {
    /// Its parts, read (see [`PartsRead`]); a part is a function call or else text.
    pub(super) fn read_parts(&self) -> PartsRead {
        let mut read = PartsRead::default();
        let parts = self.content.0.as_ref().and_then(|c| c.parts.0.as_deref());
        for part in parts.unwrap_or_default() {
            let part: Part = read_object(part);
            if let Some(call) = part.function_call {
                let args = call.args.0.filter(|a| !a.is_null());
                let arguments = args.map_or_else(|| "{}".into(), |a| a.to_string());
                read.calls
                    .push((call.name.0.unwrap_or_default(), arguments));
            } else if let Some(t) = part.text.0 {
                if part.thought.0 == Some(true) {
                    read.reasoning.push_str(&t);
                } else {
                    read.text.push_str(&t);
                }
            }
        }
        read
    }
}

/// `usageMetadata`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct UsageMetadata {
    pub(super) prompt_token_count: Loose<u64>,
    pub(super) candidates_token_count: Loose<u64>,
    pub(super) thoughts_token_count: Loose<u64>,
    pub(super) total_token_count: Loose<u64>,
    pub(super) cached_content_token_count: Loose<u64>,
}
