//! Serde round trips of the OpenAI wire types: every documented field parses into its typed
//! home, unknown fields survive, and serializing gives back the same JSON (as values), with
//! `None` fields absent.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use litellm_core::*;
use serde_json::{json, Value};

/// Parses `v` as `T`, serializes it back, and asserts the JSON is unchanged.
fn roundtrip<T: serde::de::DeserializeOwned + serde::Serialize>(v: Value) -> T {
    let parsed: T = serde_json::from_value(v.clone()).unwrap();
    let back = serde_json::to_value(&parsed).unwrap();
    assert_eq!(back, v, "round trip changed the JSON");
    parsed
}

#[test]
fn a_full_chat_request_round_trips_with_every_field_typed() {
    let v = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are terse.", "name": "sys"},
            {"role": "developer", "content": [{"type": "text", "text": "Use JSON."}]},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this image?", "cache_control": {"type": "ephemeral"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}},
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}},
                {"type": "future_part", "payload": 1}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 21}"},
            {"role": "function", "name": "legacy", "content": "ok"},
            {"role": "assistant", "content": "Done.", "reasoning_content": "thought", "refusal": null}
        ],
        "stream": true,
        "stream_options": {"include_usage": true},
        "temperature": 0.7,
        "top_p": 0.9,
        "n": 2,
        "stop": ["\n\n", "END"],
        "max_tokens": 100,
        "max_completion_tokens": 120,
        "presence_penalty": 0.1,
        "frequency_penalty": -0.2,
        "logit_bias": {"50256": -100},
        "logprobs": true,
        "top_logprobs": 3,
        "user": "user-123",
        "seed": 42,
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "description": "Weather",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}, "strict": true}},
            {"type": "web_search_preview", "search_context_size": "low"}
        ],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": false,
        "functions": [{"name": "legacy", "parameters": {"type": "object"}}],
        "function_call": "auto",
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer",
            "schema": {"type": "object"}, "strict": true}},
        "metadata": {"trace": "abc"},
        "reasoning_effort": "low",
        "service_tier": "flex",
        "prediction": {"type": "content", "content": "x"}
    });
    // `refusal: null` is not re-emitted (None fields are absent), so compare without it.
    let mut expected = v.clone();
    expected["messages"][6]
        .as_object_mut()
        .unwrap()
        .remove("refusal");
    expected["messages"][3]
        .as_object_mut()
        .unwrap()
        .remove("content");
    let req: ChatRequest = serde_json::from_value(v).unwrap();
    assert_eq!(serde_json::to_value(&req).unwrap(), expected);

    assert_eq!(req.messages.len(), 7);
    assert_eq!(
        req.messages.iter().map(Message::role).collect::<Vec<_>>(),
        [
            "system",
            "developer",
            "user",
            "assistant",
            "tool",
            "function",
            "assistant"
        ]
    );
    let Message::User(user) = &req.messages[2] else {
        panic!("user")
    };
    let Content::Parts(parts) = &user.content else {
        panic!("parts")
    };
    let kinds: Vec<&str> = parts
        .iter()
        .map(|p| match p {
            ContentPart::Known(KnownContentPart::Text(_)) => "text",
            ContentPart::Known(KnownContentPart::ImageUrl(_)) => "image_url",
            ContentPart::Known(KnownContentPart::InputAudio(_)) => "input_audio",
            ContentPart::Known(KnownContentPart::File(_)) => "file",
            // An unknown part is kept raw.
            ContentPart::Other(_) => "other",
        })
        .collect();
    assert_eq!(kinds, ["text", "image_url", "input_audio", "file", "other"]);
    assert_eq!(
        req.stop.as_ref().unwrap().to_vec(),
        vec!["\n\n".to_string(), "END".to_string()]
    );
    assert!(matches!(req.tool_choice, Some(ToolChoice::Named(_))));
    assert!(matches!(
        req.response_format,
        Some(ResponseFormat::Known(
            KnownResponseFormat::JsonSchema { .. }
        ))
    ));
    assert_eq!(req.max_output_tokens(), Some(120));
    assert!(req.is_stream() && req.wants_stream_usage());
    assert_eq!(
        req.extra["service_tier"], "flex",
        "unknown fields preserved"
    );
    assert_eq!(req.extra["prediction"]["type"], "content");
    assert_eq!(
        req.tools.as_ref().unwrap()[1].extra["search_context_size"],
        "low"
    );
}

#[test]
fn a_minimal_request_serializes_without_absent_fields() {
    let req = ChatRequest {
        model: "m".into(),
        messages: vec![Message::user("hi")],
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    );
}

#[test]
fn tool_choice_and_response_format_variants() {
    for (v, named) in [
        (json!("auto"), false),
        (json!("required"), false),
        (json!({"type": "function", "function": {"name": "f"}}), true),
        (json!({"type": "allowed_tools", "mode": "auto"}), false),
    ] {
        let c: ToolChoice = roundtrip(v);
        assert_eq!(matches!(c, ToolChoice::Named(_)), named);
    }
    let f: ResponseFormat = roundtrip(json!({"type": "json_object"}));
    assert!(matches!(
        f,
        ResponseFormat::Known(KnownResponseFormat::JsonObject)
    ));
    let f: ResponseFormat = roundtrip(json!({"type": "text"}));
    assert!(matches!(
        f,
        ResponseFormat::Known(KnownResponseFormat::Text)
    ));
    let f: ResponseFormat = roundtrip(json!({"type": "grammar", "grammar": "x"}));
    assert!(matches!(f, ResponseFormat::Other(_)));
}

#[test]
fn a_response_with_tool_calls_and_usage_details_round_trips() {
    let v = json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-2024-08-06",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ], "annotations": []},
            "finish_reason": "tool_calls",
            "logprobs": {"content": []}
        }],
        "usage": {
            "prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
            "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 12, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        },
        "system_fingerprint": "fp_1",
        "service_tier": "default"
    });
    let r: ChatResponse = roundtrip(v);
    let u = r.usage.unwrap();
    assert_eq!(u.cached_tokens(), 64);
    assert_eq!(u.reasoning_tokens(), 12);
    assert_eq!(u.cache_creation_tokens(), 0);
    assert_eq!(
        r.choices[0].message.tool_calls.as_ref().unwrap()[0].kind,
        "function"
    );
    assert_eq!(r.choices[0].message.extra["annotations"], json!([]));
}

#[test]
fn response_content_null_is_written_and_chunk_finish_reason_null_too() {
    let r: ChatResponse = serde_json::from_value(json!({
        "id": "x", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant"}, "finish_reason": "stop"}]
    }))
    .unwrap();
    let back = serde_json::to_value(&r).unwrap();
    assert_eq!(back["object"], "chat.completion", "defaulted");
    assert_eq!(back["choices"][0]["message"]["content"], Value::Null);
    assert!(back["choices"][0]["message"]
        .as_object()
        .unwrap()
        .contains_key("content"));

    let c: ChatChunk = roundtrip(json!({
        "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}},
        ]}, "finish_reason": null}]
    }));
    assert_eq!(c.choices[0].delta.tool_calls.as_ref().unwrap()[0].index, 0);
}

#[test]
fn a_final_chunk_with_both_choices_and_usage_keeps_both() {
    let c: ChatChunk = roundtrip(json!({
        "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"content": "!"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
    }));
    assert_eq!(c.choices.len(), 1);
    assert_eq!(c.usage.unwrap().total_tokens, 6);
}

#[test]
fn embeddings_round_trip_in_both_encodings() {
    let req: EmbeddingRequest = roundtrip(json!({
        "model": "text-embedding-3-small", "input": ["a", "b"],
        "encoding_format": "base64", "dimensions": 256, "user": "u", "input_type": "query"
    }));
    assert!(req.wants_base64());
    assert_eq!(req.extra["input_type"], "query");
    let r: EmbeddingResponse = roundtrip(json!({
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [0.5, -0.25]},
            {"object": "embedding", "index": 1, "embedding": "AACAPw=="}
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 2, "total_tokens": 2}
    }));
    assert!(matches!(r.data[0].embedding, EmbeddingVector::Float(_)));
    assert!(matches!(r.data[1].embedding, EmbeddingVector::Base64(_)));
}

#[test]
fn invalid_requests_name_the_problem() {
    let err = serde_json::from_value::<ChatRequest>(json!({"messages": []}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field `model`"), "{err}");
    let err = serde_json::from_value::<ChatRequest>(
        json!({"model": "m", "messages": [{"role": "robot", "content": "x"}]}),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("robot"), "{err}");
    let err = serde_json::from_value::<ChatRequest>(
        json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("tool_call_id"), "{err}");
}
