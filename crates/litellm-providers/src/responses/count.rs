//! The input estimate ([`estimate_input_tokens`]).

use super::items::{FunctionOutput, InputContent, InputItem, InputPart, KnownInputPart};
use super::{ResponsesInput, ResponsesRequest};

fn content_chars(c: &InputContent) -> (usize, u64) {
    match c {
        InputContent::Text(t) => (t.len(), 0),
        InputContent::Parts(parts) => parts.iter().fold((0, 0), |(chars, media), p| match p {
            InputPart::Known(
                KnownInputPart::InputText { text } | KnownInputPart::OutputText { text, .. },
            ) => (chars + text.len(), media),
            InputPart::Known(KnownInputPart::Refusal { refusal }) => (chars + refusal.len(), media),
            _ => (chars, media + 1),
        }),
    }
}

/// Tokens counted for one image or file part whose size we cannot see (as the Anthropic
/// ingress counts a media block).
const MEDIA_TOKENS: u64 = 1600;
/// Tokens of per-message overhead.
const PER_MESSAGE: u64 = 3;

/// The input estimate (for `response.created` before the upstream reports usage, and for
/// rate limits): characters of instructions, input text, function calls and outputs and tool
/// definitions at four characters a token, three tokens per item plus three, and 1600 per
/// image or file.
pub fn estimate_input_tokens(req: &ResponsesRequest) -> u64 {
    let mut chars = req.instructions.as_deref().map_or(0, str::len);
    let mut media = 0;
    let mut items = 0u64;
    match &req.input {
        None => {}
        Some(ResponsesInput::Text(t)) => {
            chars += t.len();
            items = 1;
        }
        Some(ResponsesInput::Items(list)) => {
            for item in list {
                items += 1;
                match item {
                    InputItem::Message(m) => {
                        let (c, n) = content_chars(&m.content);
                        chars += c;
                        media += n;
                    }
                    InputItem::FunctionCall(f) => chars += f.name.len() + f.arguments.len(),
                    InputItem::FunctionCallOutput(o) => match &o.output {
                        FunctionOutput::Text(t) => chars += t.len(),
                        FunctionOutput::Parts(p) => {
                            let (c, n) = content_chars(&InputContent::Parts(p.clone()));
                            chars += c;
                            media += n;
                        }
                    },
                    InputItem::Reasoning(_) | InputItem::Other(_) => items -= 1,
                }
            }
        }
    }
    if let Some(tools) = req.tools.as_ref().filter(|t| !t.is_empty()) {
        chars += serde_json::to_string(tools).map_or(0, |s| s.len());
    }
    (chars as u64).div_ceil(4) + PER_MESSAGE * (items + 1) + media * MEDIA_TOKENS
}
