//! Prompt sizes for routing decisions (usage-based routing's `tpm` check and the
//! context-window pre-call check).
//!
//! - OpenAI-family models (a model name tiktoken knows: `gpt-4o`, `gpt-4.1`, `o3`, `gpt-3.5`,
//!   `text-embedding-3-*`, ...; for Azure deployments, `model_info.base_model`): counted exactly
//!   with tiktoken-rs (`o200k_base` / `cl100k_base`), plus OpenAI's chat-format overhead of three
//!   tokens per message and three to prime the reply. The vocabulary loads once, on first use.
//! - Every other model: LiteLLM's fallback estimate of four characters per token, plus the same
//!   overhead. Routing only needs to know whether a prompt fits; spend always uses the usage the
//!   provider reports.
//!
//! Exact counting is bounded, because a client chooses the text: BPE merging is quadratic in
//! the length of one word, so a run of more than [`MAX_RUN`] bytes without whitespace is
//! counted in pieces of that size (off by at most one token a piece, linear time), and a text
//! over [`MAX_EXACT`] bytes is estimated instead of counted.

use litellm_core::{ChatRequest, EmbeddingInput};

/// Tokens per message of chat-format overhead.
const PER_MESSAGE: u64 = 3;

/// Characters to tokens, rounding up.
pub fn chars_to_tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4)
}

/// The tiktoken vocabulary for a model name (provider prefix allowed), if it is an OpenAI one.
fn tokenizer(model: &str) -> Option<&'static tiktoken_rs::CoreBPE> {
    let name = model.rsplit('/').next().unwrap_or(model);
    match tiktoken_rs::tokenizer::get_tokenizer(name)? {
        tiktoken_rs::tokenizer::Tokenizer::O200kBase => Some(tiktoken_rs::o200k_base_singleton()),
        tiktoken_rs::tokenizer::Tokenizer::Cl100kBase => Some(tiktoken_rs::cl100k_base_singleton()),
        _ => None,
    }
}

/// Loads the tokenizer vocabularies (call it off the request path).
pub fn warm_up() {
    let _ = tiktoken_rs::o200k_base_singleton();
    let _ = tiktoken_rs::cl100k_base_singleton();
}

/// Whether prompts for `model` are counted exactly (an OpenAI-family model).
pub fn is_exact(model: &str) -> bool {
    let name = model.rsplit('/').next().unwrap_or(model);
    tiktoken_rs::tokenizer::get_tokenizer(name).is_some_and(|t| {
        matches!(
            t,
            tiktoken_rs::tokenizer::Tokenizer::O200kBase
                | tiktoken_rs::tokenizer::Tokenizer::Cl100kBase
        )
    })
}

/// The longest run of non-whitespace bytes counted in one piece.
pub const MAX_RUN: usize = 256;

/// The longest text counted exactly; a longer one is estimated (four bytes a token).
pub const MAX_EXACT: usize = 512 * 1024;

/// `text` in the pieces [`count`] encodes: cut inside runs of more than [`MAX_RUN`] bytes
/// without whitespace (on a character boundary), nowhere else.
pub fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut run) = (0, 0);
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            run = 0;
            continue;
        }
        if run >= MAX_RUN {
            out.push(&text[start..i]);
            start = i;
            run = 0;
        }
        run += c.len_utf8();
    }
    out.push(&text[start..]);
    out
}

/// Tokens of `text` with `bpe`, bounded as the module docs say.
fn count(bpe: &tiktoken_rs::CoreBPE, text: &str) -> u64 {
    if text.len() > MAX_EXACT {
        return chars_to_tokens(text.len());
    }
    pieces(text)
        .into_iter()
        .map(|p| bpe.encode_ordinary(p).len() as u64)
        .sum()
}

/// Prompt tokens of a chat request for `model`: exact for OpenAI-family models, else
/// [`chat_prompt_tokens`].
pub fn chat_prompt_tokens_for(model: &str, req: &ChatRequest) -> u64 {
    let Some(bpe) = tokenizer(model) else {
        return chat_prompt_tokens(req);
    };
    let mut n = PER_MESSAGE * (req.messages.len() as u64 + 1);
    for m in &req.messages {
        n += count(bpe, &m.text());
    }
    if let Some(tools) = req.tools.as_ref() {
        if let Ok(json) = serde_json::to_string(tools) {
            n += count(bpe, &json);
        }
    }
    n
}

/// Estimated prompt tokens of a chat request: message text, tool definitions and overhead.
pub fn chat_prompt_tokens(req: &ChatRequest) -> u64 {
    let text: usize = req.messages.iter().map(|m| m.text().len()).sum();
    let tools: usize = req
        .tools
        .as_ref()
        .map_or(0, |t| serde_json::to_string(t).map_or(0, |s| s.len()));
    chars_to_tokens(text + tools) + PER_MESSAGE * (req.messages.len() as u64 + 1)
}

/// Estimated tokens of an embeddings input (exact for pre-tokenized input).
pub fn embedding_input_tokens(input: &EmbeddingInput) -> u64 {
    match input {
        EmbeddingInput::Text(t) => chars_to_tokens(t.len()),
        EmbeddingInput::Texts(v) => v.iter().map(|t| chars_to_tokens(t.len())).sum(),
        EmbeddingInput::Tokens(t) => t.len() as u64,
        EmbeddingInput::TokenBatches(b) => b.iter().map(|t| t.len() as u64).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use litellm_core::Message;

    /// A request of one user message.
    fn user_request(text: impl Into<String>) -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: vec![Message::user(text)],
            ..Default::default()
        }
    }

    #[test]
    fn openai_models_are_counted_exactly_with_tiktoken() {
        // "hello world" is two tokens in both o200k_base and cl100k_base.
        let req = user_request("hello world");
        assert!(is_exact("openai/gpt-4o") && is_exact("gpt-3.5-turbo"));
        assert!(!is_exact("anthropic/claude-3-5-sonnet"));
        assert_eq!(chat_prompt_tokens_for("openai/gpt-4o", &req), 2 + 6);
        assert_eq!(chat_prompt_tokens_for("azure/gpt-4", &req), 2 + 6);
        // Not an OpenAI model: the estimate (11 chars -> 3 tokens).
        assert_eq!(chat_prompt_tokens_for("anthropic/claude-x", &req), 3 + 6);
    }

    #[test]
    fn long_runs_are_counted_in_pieces_and_ordinary_text_whole() {
        let text = "The quick brown fox jumps over the lazy dog. ".repeat(50);
        assert_eq!(pieces(&text), vec![text.as_str()]);
        let bpe = tiktoken_rs::o200k_base_singleton();
        assert_eq!(count(bpe, &text), bpe.encode_ordinary(&text).len() as u64);

        // A 100 KB word: pieces of at most MAX_RUN bytes, on character boundaries.
        let word = "ab".repeat(50_000);
        let cut = pieces(&word);
        assert_eq!(cut.len(), word.len().div_ceil(MAX_RUN));
        assert!(cut.iter().all(|p| p.len() <= MAX_RUN));
        assert_eq!(cut.concat(), word);
        let wide = format!("x {}", "é".repeat(300));
        assert_eq!(pieces(&wide).concat(), wide);
        let n = count(bpe, &word);
        let whole = bpe.encode_ordinary(&"ab".repeat(2_000)).len() as u64 * 25;
        assert!(n.abs_diff(whole) <= cut.len() as u64 * 2, "{n} vs {whole}");

        // Past MAX_EXACT the text is estimated.
        let huge = "a ".repeat(MAX_EXACT);
        assert_eq!(count(bpe, &huge), chars_to_tokens(huge.len()));
    }

    #[test]
    fn estimates_grow_with_the_prompt() {
        let short = user_request("hi");
        let long = user_request("x".repeat(4000));
        assert_eq!(chat_prompt_tokens(&short), 1 + 6);
        assert_eq!(chat_prompt_tokens(&long), 1000 + 6);
        assert_eq!(
            embedding_input_tokens(&EmbeddingInput::Texts(vec![
                "abcd".into(),
                "abcdefgh".into()
            ])),
            3
        );
        assert_eq!(
            embedding_input_tokens(&EmbeddingInput::Tokens(vec![1, 2, 3])),
            3
        );
    }
}
