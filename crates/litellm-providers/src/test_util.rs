//! Helpers the adapters' unit tests share: a one-message request and running a stream decoder
//! over some bytes.

use litellm_core::{ChatRequest, ErrorKind, LlmError, Message};

use crate::decoder::{ChunkDecoder, Items};

/// `{"model": "m", "messages": [{"role": "user", "content": "hi"}]}`.
pub(crate) fn hi_request() -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        messages: vec![Message::user("hi")],
        ..Default::default()
    }
}

/// Asserts that `result` is the authentication error of a missing key, naming `variable`.
pub(crate) fn assert_missing_key<T: std::fmt::Debug>(result: Result<T, LlmError>, variable: &str) {
    let e = result.expect_err("no key");
    assert_eq!(e.kind, ErrorKind::Authentication);
    assert!(e.message.contains(variable), "{}", e.message);
}

/// What `decoder` makes of `bytes`, the stream then ending.
pub(crate) fn decode_all(mut decoder: impl ChunkDecoder, bytes: &[u8]) -> Items {
    let mut out = Items::new();
    decoder.feed(bytes, &mut out);
    decoder.finish(&mut out);
    out
}

/// Asserts that a stream cut short gave `len` items, the last a connection error.
pub(crate) fn assert_cut(out: &Items, len: usize) {
    assert_eq!(out.len(), len);
    assert_eq!(
        out[len - 1].as_ref().expect_err("cut").kind,
        ErrorKind::ApiConnection
    );
}
