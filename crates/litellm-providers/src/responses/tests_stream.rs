//! Unit tests of the Responses stream translation.

use pretty_assertions::assert_eq;
use serde_json::{json, Value};

use litellm_core::ChatChunk;

use super::*;

fn chunk(body: Value) -> ChatChunk {
    let mut b = json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1,
        "model": "up-model"});
    if let (Some(m), Value::Object(extra)) = (b.as_object_mut(), body) {
        m.extend(extra);
    }
    serde_json::from_value(b).expect("chunk parses")
}

fn delta(d: Value) -> ChatChunk {
    chunk(json!({"choices": [{"index": 0, "delta": d, "finish_reason": null}]}))
}

fn finish(reason: &str) -> ChatChunk {
    chunk(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}))
}

fn usage(p: u64, c: u64) -> ChatChunk {
    chunk(
        json!({"choices": [], "usage": {"prompt_tokens": p, "completion_tokens": c,
        "total_tokens": p + c}}),
    )
}

fn translator(body: Value) -> ResponsesStreamTranslator {
    let req: ResponsesRequest = serde_json::from_value(body).expect("request parses");
    ResponsesStreamTranslator::new(ResponseEcho::from_request(&req), "resp_s", 7, 11)
}

fn run(t: &mut ResponsesStreamTranslator, chunks: &[ChatChunk]) -> Vec<Value> {
    let mut events: Vec<Value> = chunks.iter().flat_map(|c| t.push_events(c)).collect();
    events.extend(t.finish_events());
    events
}

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or(""))
        .collect()
}

/// The stream opened (created, in progress, its first output item added), then went through
/// these event types.
fn assert_opened_then(events: &[Value], rest: &[&str]) {
    let mut want = vec![
        "response.created",
        "response.in_progress",
        "response.output_item.added",
    ];
    want.extend(rest);
    assert_eq!(types(events), want);
}

fn assert_sequenced(events: &[Value]) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["sequence_number"], json!(i), "{e}");
    }
}

#[test]
fn text_stream_emits_the_documented_event_sequence() {
    let mut t = translator(json!({"model": "gpt-4o", "input": "hi"}));
    let events = run(
        &mut t,
        &[
            delta(json!({"role": "assistant", "content": ""})),
            delta(json!({"content": "Hel"})),
            delta(json!({"content": "lo"})),
            finish("stop"),
            usage(9, 2),
        ],
    );
    assert_opened_then(
        &events,
        &[
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ],
    );
    assert_sequenced(&events);
    let msg_id = item_id("msg", "resp_s", 0);
    let created = &events[0]["response"];
    assert_eq!(created["status"], json!("in_progress"));
    assert_eq!(created["output"], json!([]));
    assert_eq!(created["model"], json!("up-model"));
    assert_eq!(
        events[2],
        json!({"type": "response.output_item.added", "output_index": 0,
            "item": {"type": "message", "id": msg_id, "status": "in_progress",
                "role": "assistant", "content": []}, "sequence_number": 2})
    );
    assert_eq!(
        events[3],
        json!({"type": "response.content_part.added", "item_id": msg_id, "output_index": 0,
            "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []},
            "sequence_number": 3})
    );
    assert_eq!(
        events[4],
        json!({"type": "response.output_text.delta", "item_id": msg_id, "output_index": 0,
            "content_index": 0, "delta": "Hel", "logprobs": [], "sequence_number": 4})
    );
    assert_eq!(
        events[6],
        json!({"type": "response.output_text.done", "item_id": msg_id, "output_index": 0,
            "content_index": 0, "text": "Hello", "logprobs": [], "sequence_number": 6})
    );
    let item = json!({"type": "message", "id": msg_id, "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Hello", "annotations": []}]});
    assert_eq!(events[8]["item"], item);
    let done = &events[9]["response"];
    assert_eq!(done["status"], json!("completed"));
    assert_eq!(done["output"], json!([item]));
    assert_eq!(
        done["usage"],
        json!({"input_tokens": 9, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 2, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 11})
    );
    // The streamed final response is the one the non-stream path builds.
    let chat = t.chat_response();
    let req: ResponsesRequest =
        serde_json::from_value(json!({"model": "gpt-4o", "input": "hi"})).expect("parses");
    assert_eq!(
        &to_response(&chat, &ResponseEcho::from_request(&req), "resp_s", 7),
        done
    );
    assert_eq!(t.final_response(), Some(done));
    assert!(t.is_done());
}

#[test]
fn tool_call_stream_emits_function_call_events() {
    let mut t = translator(json!({"model": "m", "input": "hi",
        "tools": [{"type": "function", "name": "weather"}]}));
    let events = run(
        &mut t,
        &[
            delta(
                json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_a",
                "type": "function", "function": {"name": "weather", "arguments": ""}}]}),
            ),
            delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]})),
            delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]})),
            delta(
                json!({"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
                "function": {"name": "time", "arguments": "{}"}}]}),
            ),
            finish("tool_calls"),
            usage(20, 8),
        ],
    );
    assert_opened_then(
        &events,
        &[
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ],
    );
    assert_sequenced(&events);
    let (fc_a, fc_b) = (item_id("fc", "resp_s", 0), item_id("fc", "resp_s", 1));
    assert_eq!(
        events[2],
        json!({"type": "response.output_item.added", "output_index": 0,
            "item": {"type": "function_call", "id": fc_a, "call_id": "call_a",
                "name": "weather", "arguments": "", "status": "in_progress"},
            "sequence_number": 2})
    );
    assert_eq!(
        events[3],
        json!({"type": "response.function_call_arguments.delta", "item_id": fc_a,
            "output_index": 0, "delta": "{\"city\":", "sequence_number": 3})
    );
    assert_eq!(
        events[7],
        json!({"type": "response.function_call_arguments.done", "item_id": fc_a,
            "output_index": 0, "name": "weather", "arguments": "{\"city\":\"Paris\"}",
            "sequence_number": 7})
    );
    let done = &events[11]["response"];
    assert_eq!(
        done["output"],
        json!([
            {"type": "function_call", "id": fc_a, "call_id": "call_a", "name": "weather",
                "arguments": "{\"city\":\"Paris\"}", "status": "completed"},
            {"type": "function_call", "id": fc_b, "call_id": "call_b", "name": "time",
                "arguments": "{}", "status": "completed"},
        ])
    );
    assert_eq!(done["usage"]["input_tokens"], json!(20));
    assert_eq!(done["usage"]["total_tokens"], json!(28));
    assert_eq!(
        done["tools"],
        json!([{"type": "function", "name": "weather"}])
    );
    let chat = t.chat_response();
    let calls = chat.choices[0]
        .message
        .tool_calls
        .clone()
        .unwrap_or_default();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].function.arguments, "{\"city\":\"Paris\"}");
}

#[test]
fn reasoning_then_text_and_length_is_incomplete() {
    let mut t = translator(json!({"model": "m", "input": "hi", "max_output_tokens": 3}));
    let events = run(
        &mut t,
        &[
            delta(json!({"reasoning_content": "Think"})),
            delta(json!({"content": "An"})),
            finish("length"),
        ],
    );
    assert_opened_then(
        &events,
        &[
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.incomplete",
        ],
    );
    assert_sequenced(&events);
    let done = &events[14]["response"];
    assert_eq!(done["status"], json!("incomplete"));
    assert_eq!(
        done["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(done["output"][0]["type"], json!("reasoning"));
    assert_eq!(done["output"][1]["status"], json!("incomplete"));
    assert_eq!(done["output"][1]["id"], json!(item_id("msg", "resp_s", 1)));
    // No upstream usage: the input estimate and the streamed text at 4 chars a token.
    assert_eq!(done["usage"]["input_tokens"], json!(11));
    assert_eq!(done["usage"]["output_tokens"], json!(2));
}

#[test]
fn failure_is_response_failed_and_frames_are_sse() {
    let mut t = translator(json!({"model": "m", "input": "hi"}));
    let frames = t.push(&delta(json!({"content": "partial"})));
    let first = String::from_utf8(frames[0].to_vec()).expect("utf8");
    assert!(
        first.starts_with("event: response.created\ndata: {\"type\":\"response.created\""),
        "{first}"
    );
    assert!(first.ends_with("}\n\n"), "{first}");
    let events = t.fail_events(429, "slow down");
    assert_eq!(types(&events), vec!["response.failed"]);
    assert_eq!(events[0]["sequence_number"], json!(frames.len()));
    let resp = &events[0]["response"];
    assert_eq!(resp["status"], json!("failed"));
    assert_eq!(
        resp["error"],
        json!({"code": "rate_limit_exceeded", "message": "slow down"})
    );
    assert_eq!(resp["output"][0]["status"], json!("incomplete"));
    assert!(t.finish().is_empty());
    assert!(t.push(&delta(json!({"content": "more"}))).is_empty());
}
