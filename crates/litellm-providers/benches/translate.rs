//! Criterion micro-benchmarks of the request path's translation work for an OpenAI-compatible
//! upstream: parsing the client's body, building the upstream request, parsing the upstream's
//! answer and writing it back, and decoding a stream. Run with
//! `cargo bench -p litellm-providers --bench translate`.

use std::collections::VecDeque;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use litellm_core::{ChatRequest, ChatResponse};
use litellm_providers::openai::ChatStreamDecoder;
use litellm_providers::{OpenAiAdapter, ProviderParams};

const REQUEST: &str = r#"{"model":"bench","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello, how are you today? Please answer in one short sentence."}],"max_tokens":50,"temperature":0.2}"#;

const RESPONSE: &str = r#"{"id":"chatcmpl-abc123","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"I'm doing well, thank you for asking! How can I help you today?","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":28,"completion_tokens":17,"total_tokens":45,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"system_fingerprint":"fp_1"}"#;

fn stream_body() -> String {
    let mut s = String::new();
    for (i, word) in [
        "I'm", " doing", " well,", " thank", " you", " for", " asking", "!",
    ]
    .iter()
    .enumerate()
    {
        let role = if i == 0 { r#""role":"assistant","# } else { "" };
        s.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{{role}\"content\":\"{word}\"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    s.push_str("data: {\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":28,\"completion_tokens\":8,\"total_tokens\":36}}\n\ndata: [DONE]\n\n");
    s
}

fn adapter() -> OpenAiAdapter {
    let params: ProviderParams = serde_json::from_value(serde_json::json!({
        "model": "openai/gpt-4o-mini",
        "api_base": "http://127.0.0.1:8000/v1",
        "api_key": "sk-bench"
    }))
    .expect("params");
    OpenAiAdapter::new(&params, "gpt-4o-mini").expect("adapter")
}

fn bench(c: &mut Criterion) {
    let adapter = adapter();
    c.bench_function("parse client ChatRequest", |b| {
        b.iter(|| serde_json::from_slice::<ChatRequest>(black_box(REQUEST.as_bytes())))
    });
    let req: ChatRequest = serde_json::from_str(REQUEST).expect("request");
    c.bench_function("build upstream request", |b| {
        b.iter(|| adapter.build_chat_request(black_box(req.clone()), false, &[]))
    });
    c.bench_function("parse upstream response", |b| {
        b.iter(|| adapter.parse_chat_response(black_box(RESPONSE.as_bytes())))
    });
    let resp: ChatResponse = serde_json::from_str(RESPONSE).expect("response");
    c.bench_function("write client response", |b| {
        b.iter(|| serde_json::to_vec(black_box(&resp)))
    });
    let body = stream_body();
    c.bench_function("decode 9-chunk stream", |b| {
        b.iter(|| {
            let mut d = ChatStreamDecoder::new("gpt-4o-mini");
            let mut out = VecDeque::new();
            d.feed(black_box(body.as_bytes()), &mut out);
            out.len()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
