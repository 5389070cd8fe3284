//! Unit tests of the Ollama adapter.

use std::collections::VecDeque;

use http::header::HeaderMap;
use serde_json::json;

use litellm_core::{ChatRequest, ErrorKind};

use super::*;
use super::{request::*, response::*};
use crate::params::ProviderParams;
use crate::test_util::{assert_cut, decode_all};

fn adapter(mode: OllamaMode) -> OllamaAdapter {
    let params = ProviderParams {
        model: "ollama/llama3".into(),
        ..Default::default()
    };
    OllamaAdapter::with_env(&params, "llama3", mode, |_| None).expect("adapter")
}

#[test]
fn the_prompt_is_built_like_litellm() {
    let req: ChatRequest = serde_json::from_value(json!({"model": "m", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Bye"},
        {"role": "user", "content": [{"type": "text", "text": " now"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}}]}
    ]}))
    .expect("request");
    let (prompt, images) = generate_prompt(req.messages).expect("prompt");
    assert_eq!(
        prompt,
        "### System:\nBe brief.\n\n### User:\nHi\n\n### Assistant:\nHello\n\n### User:\nBye now\n\n"
    );
    assert_eq!(images, vec!["QUJD".to_string()]);
}

#[test]
fn http_images_and_generate_tools_are_refused() {
    let req: ChatRequest = serde_json::from_value(json!({"model": "m", "messages": [
        {"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}
    ]}))
    .expect("request");
    let e = adapter(OllamaMode::Chat)
        .translate_request(req)
        .expect_err("http image");
    assert_eq!(e.param.as_deref(), Some("messages[0]"));
    let req: ChatRequest = serde_json::from_value(json!({"model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "f"}}]}))
    .expect("request");
    let e = adapter(OllamaMode::Generate)
        .translate_request(req)
        .expect_err("tools");
    assert_eq!(e.param.as_deref(), Some("tools"));
    assert!(e.message.contains("ollama_chat/"), "{}", e.message);
}

#[test]
fn think_blocks_split_and_done_reasons_map() {
    assert_eq!(
        split_think("<think>hmm</think>\n\nAnswer"),
        (Some("hmm".into()), "Answer".into())
    );
    assert_eq!(split_think("plain"), (None, "plain".into()));
    assert_eq!(map_done_reason(Some("length"), true), "length");
    assert_eq!(map_done_reason(Some("stop"), true), "tool_calls");
    assert_eq!(map_done_reason(None, false), "stop");
}

#[test]
fn a_cut_stream_and_an_error_line_are_errors() {
    let a = adapter(OllamaMode::Chat);
    let out = decode_all(a.stream_decoder(CallOptions::default()), b"{\"model\":\"llama3\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\n");
    assert_cut(&out, 2);
    let mut d = a.stream_decoder(CallOptions::default());
    let mut out = VecDeque::new();
    d.feed(b"{\"error\":\"model \\\"x\\\" not found\"}\n", &mut out);
    assert_eq!(
        out[0].as_ref().expect_err("error").kind,
        ErrorKind::NotFound
    );
    assert!(d.is_done());
}

#[test]
fn errors_map_by_status() {
    let h = HeaderMap::new();
    let e = map_error(
        CHAT_PROVIDER,
        404,
        &h,
        br#"{"error":"model \"nope\" not found, try pulling it first"}"#,
    );
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("try pulling"), "{}", e.message);
    let e = map_error(
        CHAT_PROVIDER,
        400,
        &h,
        br#"{"error":"the input length exceeds the context length"}"#,
    );
    assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
    let e = map_error(CHAT_PROVIDER, 500, &h, b"boom");
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::InternalServer, "boom")
    );
}
