//! Unit tests of the Responses ingress: request translation, response translation, errors and
//! ids.

use pretty_assertions::assert_eq;
use serde_json::{json, Value};

use litellm_core::{ChatResponse, ErrorKind, Message};

use super::*;

fn req(body: Value) -> ResponsesRequest {
    serde_json::from_value(body).expect("request parses")
}

fn chat_json(body: Value, history: Vec<Message>) -> Value {
    let chat = to_chat_request(req(body), history).expect("translates");
    serde_json::to_value(chat).expect("serializes")
}

#[test]
fn string_input_is_one_user_message() {
    let chat = chat_json(json!({"model": "gpt-4o", "input": "Hello"}), vec![]);
    assert_eq!(
        chat,
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]})
    );
}

#[test]
fn instructions_come_first_then_history_then_input() {
    let history = vec![Message::user("Earlier"), Message::user("Again")];
    let chat = chat_json(
        json!({"model": "m", "instructions": "Be brief.", "input": "Now",
            "max_output_tokens": 50, "temperature": 0.2, "top_p": 0.9, "user": "u1",
            "reasoning": {"effort": "low", "summary": "auto"}, "store": true,
            "previous_response_id": "resp_x", "truncation": "auto", "include": []}),
        history,
    );
    assert_eq!(
        chat,
        json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Earlier"},
                {"role": "user", "content": "Again"},
                {"role": "user", "content": "Now"},
            ],
            "temperature": 0.2,
            "top_p": 0.9,
            "max_tokens": 50,
            "user": "u1",
            "reasoning_effort": "low",
        })
    );
}

#[test]
fn multi_turn_with_function_calls_becomes_exact_chat_messages() {
    let chat = chat_json(
        json!({"model": "m", "input": [
            {"role": "developer", "content": "Use tools."},
            {"role": "user", "content": [
                {"type": "input_text", "text": "Weather in Paris and Rome?"},
                {"type": "input_image", "image_url": "https://x/img.png", "detail": "low"},
            ]},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
                "content": [{"type": "output_text", "text": "Checking.", "annotations": []}]},
            {"type": "function_call", "id": "fc_1", "call_id": "call_a", "name": "weather",
                "arguments": "{\"city\":\"Paris\"}", "status": "completed"},
            {"type": "function_call", "id": "fc_2", "call_id": "call_b", "name": "weather",
                "arguments": "{\"city\":\"Rome\"}"},
            {"type": "function_call_output", "call_id": "call_a", "output": "18C"},
            {"type": "function_call_output", "call_id": "call_b",
                "output": [{"type": "input_text", "text": "21C"}]},
            {"role": "user", "content": "Thanks"},
        ]}),
        vec![],
    );
    assert_eq!(
        chat["messages"],
        json!([
            {"role": "developer", "content": "Use tools."},
            {"role": "user", "content": [
                {"type": "text", "text": "Weather in Paris and Rome?"},
                {"type": "image_url", "image_url": {"url": "https://x/img.png", "detail": "low"}},
            ]},
            {"role": "assistant", "content": "Checking.", "tool_calls": [
                {"id": "call_a", "type": "function",
                    "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_b", "type": "function",
                    "function": {"name": "weather", "arguments": "{\"city\":\"Rome\"}"}},
            ]},
            {"role": "tool", "content": "18C", "tool_call_id": "call_a"},
            {"role": "tool", "content": "21C", "tool_call_id": "call_b"},
            {"role": "user", "content": "Thanks"},
        ])
    );
}

#[test]
fn function_calls_without_assistant_text_make_one_assistant_message() {
    let chat = chat_json(
        json!({"model": "m", "input": [
            {"role": "user", "content": "go"},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call", "call_id": "c2", "name": "g", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "a"},
        ]}),
        vec![],
    );
    assert_eq!(
        chat["messages"][1],
        json!({"role": "assistant", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}},
        ]})
    );
    assert_eq!(chat["messages"].as_array().map(Vec::len), Some(3));
}

#[test]
fn image_by_file_id_and_files_become_file_parts() {
    let chat = chat_json(
        json!({"model": "m", "input": [{"role": "user", "content": [
            {"type": "input_image", "file_id": "file-1"},
            {"type": "input_file", "file_data": "data:application/pdf;base64,QQ==",
                "filename": "a.pdf"},
        ]}]}),
        vec![],
    );
    assert_eq!(
        chat["messages"][0]["content"],
        json!([
            {"type": "file", "file": {"file_id": "file-1"}},
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,QQ==",
                "filename": "a.pdf"}},
        ])
    );
}

#[test]
fn flat_function_tools_become_chat_tools_with_tool_choice() {
    let chat = chat_json(
        json!({"model": "m", "input": "hi", "parallel_tool_calls": false,
            "tool_choice": {"type": "function", "name": "weather"},
            "tools": [{"type": "function", "name": "weather", "description": "Get weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                "strict": true}]}),
        vec![],
    );
    assert_eq!(
        chat["tools"],
        json!([{"type": "function", "function": {"name": "weather",
            "description": "Get weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            "strict": true}}])
    );
    assert_eq!(
        chat["tool_choice"],
        json!({"type": "function", "function": {"name": "weather"}})
    );
    assert_eq!(chat["parallel_tool_calls"], json!(false));
}

#[test]
fn tool_choice_modes_pass_through_and_bad_ones_are_named() {
    let tools = json!([{"type": "function", "name": "f", "parameters": {"type": "object"}}]);
    for mode in ["auto", "none", "required"] {
        let chat = chat_json(
            json!({"model": "m", "input": "hi", "tools": tools, "tool_choice": mode}),
            vec![],
        );
        assert_eq!(chat["tool_choice"], json!(mode));
    }
    let e = to_chat_request(
        req(json!({"model": "m", "input": "hi", "tools": tools, "tool_choice": "sometimes"})),
        vec![],
    )
    .expect_err("bad mode");
    assert_eq!(e.param.as_deref(), Some("tool_choice"));
    let e = to_chat_request(
        req(json!({"model": "m", "input": "hi", "tools": tools,
            "tool_choice": {"type": "file_search"}})),
        vec![],
    )
    .expect_err("built-in choice");
    assert!(e.message.contains("file_search"), "{}", e.message);
}

#[test]
fn built_in_tools_are_refused_by_name() {
    let e = to_chat_request(
        req(json!({"model": "m", "input": "hi", "tools": [
            {"type": "function", "name": "f"},
            {"type": "file_search", "vector_store_ids": ["vs_1"]},
        ]})),
        vec![],
    )
    .expect_err("built-in tool");
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert_eq!(e.param.as_deref(), Some("tools[1].type"));
    assert!(e.message.contains("\"file_search\""), "{}", e.message);
    let e = to_chat_request(
        req(json!({"model": "m", "input": "hi", "tools": [
            {"type": "namespace", "name": "ns", "tools": [{"type": "code_interpreter"}]},
        ]})),
        vec![],
    )
    .expect_err("built-in tool in a namespace");
    assert_eq!(e.param.as_deref(), Some("tools[0].tools[0].type"));
}

/// What Codex CLI sends on every turn: function tools, a `namespace` of function tools, and a
/// hosted `web_search` tool.
#[test]
fn namespaced_functions_are_flattened_and_hosted_search_is_left_out() {
    let chat = to_chat_request(
        req(json!({"model": "m", "input": "hi", "tools": [
            {"type": "function", "name": "exec_command", "parameters": {"type": "object"}},
            {"type": "namespace", "name": "multi_agent_v1", "description": "Sub-agents",
             "tools": [{"type": "function", "name": "close_agent", "description": "Close",
                        "strict": false, "parameters": {"type": "object"}}]},
            {"type": "web_search", "external_web_access": false},
            {"type": "web_search_preview"},
        ]})),
        vec![],
    )
    .expect("translates");
    let tools = serde_json::to_value(chat.tools.expect("tools")).expect("serializes");
    assert_eq!(
        tools,
        json!([
            {"type": "function", "function": {"name": "exec_command", "parameters": {"type": "object"}}},
            {"type": "function", "function": {"name": "close_agent", "description": "Close",
                                              "parameters": {"type": "object"}, "strict": false}},
        ])
    );
}

#[test]
fn unknown_items_and_parts_are_refused_by_name() {
    let e = to_chat_request(
        req(json!({"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}]})),
        vec![],
    )
    .expect_err("item reference");
    assert_eq!(e.param.as_deref(), Some("input[0].type"));
    assert!(e.message.contains("item_reference"), "{}", e.message);
    let e = to_chat_request(
        req(json!({"model": "m", "input": [{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {}}]}]})),
        vec![],
    )
    .expect_err("audio part");
    assert_eq!(e.param.as_deref(), Some("input[0].content[0].type"));
    assert!(e.message.contains("input_audio"), "{}", e.message);
}

#[test]
fn text_format_maps_to_response_format() {
    let chat = chat_json(
        json!({"model": "m", "input": "hi", "text": {"format": {"type": "json_schema",
            "name": "person", "strict": true,
            "schema": {"type": "object", "properties": {"name": {"type": "string"}}}}}}),
        vec![],
    );
    assert_eq!(
        chat["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "person",
            "schema": {"type": "object", "properties": {"name": {"type": "string"}}},
            "strict": true}})
    );
    let chat = chat_json(
        json!({"model": "m", "input": "hi", "text": {"format": {"type": "json_object"}}}),
        vec![],
    );
    assert_eq!(chat["response_format"], json!({"type": "json_object"}));
    let chat = chat_json(
        json!({"model": "m", "input": "hi", "text": {"format": {"type": "text"}}}),
        vec![],
    );
    assert_eq!(chat.get("response_format"), None);
}

#[test]
fn streaming_asks_for_usage_and_forwards_known_extras() {
    let chat = chat_json(
        json!({"model": "m", "input": "hi", "stream": true, "seed": 7,
            "metadata": {"tags": "a"}, "background": false, "mock_response": "ok"}),
        vec![],
    );
    assert_eq!(chat["stream"], json!(true));
    assert_eq!(chat["stream_options"], json!({"include_usage": true}));
    assert_eq!(chat["seed"], json!(7));
    assert_eq!(chat["metadata"], json!({"tags": "a"}));
    assert_eq!(chat["mock_response"], json!("ok"));
    assert_eq!(chat.get("background"), None);
}

#[test]
fn request_round_trips_through_serde() {
    let body = json!({"model": "m", "input": [
        {"role": "user", "content": "hi"},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
        {"type": "reasoning", "id": "rs", "summary": []},
    ], "service_tier": "auto"});
    let r = req(body);
    let back = serde_json::to_value(&r).expect("serializes");
    assert_eq!(
        back["input"][0],
        json!({"type": "message", "role": "user", "content": "hi"})
    );
    assert_eq!(
        back["input"][2],
        json!({"type": "reasoning", "id": "rs", "summary": []})
    );
    assert_eq!(back["service_tier"], json!("auto"));
}

fn echo_of(body: Value) -> ResponseEcho {
    ResponseEcho::from_request(&req(body))
}

fn chat_response(body: Value) -> ChatResponse {
    serde_json::from_value(body).expect("chat response parses")
}

/// The echoed settings of a request that set none of them.
fn default_echo_fields(resp: &mut Value) {
    let fields = json!({
        "instructions": null, "max_output_tokens": null, "parallel_tool_calls": true,
        "previous_response_id": null, "reasoning": {"effort": null, "summary": null},
        "store": true, "temperature": null, "text": {"format": {"type": "text"}},
        "tool_choice": "auto", "tools": [], "top_p": null, "truncation": "disabled",
        "user": null, "metadata": {},
    });
    if let (Some(r), Some(f)) = (resp.as_object_mut(), fields.as_object()) {
        for (k, v) in f {
            r.insert(k.clone(), v.clone());
        }
    }
}

#[test]
fn text_completion_becomes_a_message_item() {
    let chat = chat_response(json!({"id": "chatcmpl-1", "object": "chat.completion",
        "created": 1, "model": "gpt-4o-2024", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "Hi there"}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13,
            "prompt_tokens_details": {"cached_tokens": 4}}}));
    let got = to_response(
        &chat,
        &echo_of(json!({"model": "gpt-4o", "input": "hi"})),
        "resp_1",
        99,
    );
    let mut want = json!({
        "id": "resp_1", "object": "response", "created_at": 99, "status": "completed",
        "error": null, "incomplete_details": null, "model": "gpt-4o-2024",
        "output": [{"type": "message", "id": item_id("msg", "resp_1", 0), "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Hi there", "annotations": []}]}],
        "usage": {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 4},
            "output_tokens": 3, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 13},
    });
    default_echo_fields(&mut want);
    assert_eq!(got, want);
    assert!(got.get("output_text").is_none());
}

#[test]
fn tool_calls_and_reasoning_become_items_and_settings_are_echoed() {
    let chat = chat_response(json!({"id": "c", "created": 1, "model": "m", "choices": [{
        "index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
        "content": null, "reasoning_content": "Need weather.", "tool_calls": [
            {"id": "call_a", "type": "function",
                "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12,
            "completion_tokens_details": {"reasoning_tokens": 2}}}));
    let tools = json!([{"type": "function", "name": "weather", "parameters": {"type": "object"}}]);
    let echo = echo_of(json!({"model": "m", "input": "hi", "tools": tools,
        "instructions": "Be brief.", "tool_choice": "required", "temperature": 0.5,
        "metadata": {"k": "v"}, "previous_response_id": "resp_0", "store": false}));
    let got = to_response(&chat, &echo, "resp_2", 5);
    assert_eq!(
        got["output"],
        json!([
            {"id": item_id("rs", "resp_2", 0), "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "Need weather."}]},
            {"type": "function_call", "id": item_id("fc", "resp_2", 1), "call_id": "call_a",
                "name": "weather", "arguments": "{\"city\":\"Paris\"}", "status": "completed"},
        ])
    );
    assert_eq!(got["status"], json!("completed"));
    assert_eq!(got["tools"], tools);
    assert_eq!(got["tool_choice"], json!("required"));
    assert_eq!(got["instructions"], json!("Be brief."));
    assert_eq!(got["temperature"], json!(0.5));
    assert_eq!(got["metadata"], json!({"k": "v"}));
    assert_eq!(got["previous_response_id"], json!("resp_0"));
    assert_eq!(got["store"], json!(false));
    assert_eq!(
        got["usage"]["output_tokens_details"],
        json!({"reasoning_tokens": 2})
    );
}

#[test]
fn length_is_incomplete_with_max_output_tokens() {
    let chat = chat_response(json!({"id": "c", "created": 1, "model": "m", "choices": [{
        "index": 0, "finish_reason": "length",
        "message": {"role": "assistant", "content": "Once upon"}}]}));
    let got = to_response(
        &chat,
        &echo_of(json!({"model": "m", "input": "x",
        "max_output_tokens": 2})),
        "resp_3",
        1,
    );
    assert_eq!(got["status"], json!("incomplete"));
    assert_eq!(
        got["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(got["output"][0]["status"], json!("incomplete"));
    assert_eq!(got["max_output_tokens"], json!(2));
    assert_eq!(got["usage"], Value::Null);
}

#[test]
fn next_history_drops_instructions_and_appends_the_reply() {
    let chat_req = to_chat_request(
        req(json!({"model": "m", "instructions": "sys", "input": "q"})),
        vec![],
    )
    .expect("translates");
    let reply = chat_response(json!({"id": "c", "created": 1, "model": "m", "choices": [{
        "index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "a"}}]}));
    let history = next_history(&chat_req.messages, true, &reply);
    assert_eq!(
        serde_json::to_value(&history).expect("serializes"),
        json!([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
    );
}

#[test]
fn estimates_and_error_bodies() {
    let r = req(json!({"model": "m", "instructions": "12345678", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "abcd"},
            {"type": "input_image", "image_url": "https://x"}]}]}));
    // 12 chars → 3 tokens, 3 × (1 item + 1), one image.
    assert_eq!(estimate_input_tokens(&r), 3 + 6 + 1600);
    assert_eq!(
        error_body(400, "bad"),
        json!({"error": {"message": "bad", "type": "invalid_request_error", "param": null,
            "code": "400"}})
    );
    assert_eq!(error_type_for_status(429), "rate_limit_error");
    assert_eq!(error_type_for_status(502), "internal_server_error");
}

#[test]
fn response_ids_round_trip() {
    let id = encode_response_id("deployment-1;x");
    assert!(id.starts_with("resp_"), "{id}");
    assert_eq!(decode_response_id(&id).as_deref(), Some("deployment-1;x"));
    assert_ne!(encode_response_id("d"), encode_response_id("d"));
    assert_eq!(
        decode_response_id("resp_67ccd3a9da748190baa7f1570fe91ac6"),
        None
    );
    assert_eq!(decode_response_id("chatcmpl-1"), None);
    assert_eq!(decode_response_id("resp_!!"), None);
    assert_ne!(item_id("msg", "r", 0), item_id("msg", "r", 1));
    assert_eq!(item_id("msg", "r", 0).len(), "msg_".len() + 32);
}

#[test]
fn malformed_items_name_their_position() {
    let e = serde_json::from_value::<ResponsesRequest>(json!({"model": "m", "input": [
        {"role": "user", "content": "ok"},
        {"type": "function_call_output", "output": "x"},
    ]}))
    .expect_err("missing call_id");
    assert!(e.to_string().contains("input[1]"), "{e}");
    assert!(e.to_string().contains("call_id"), "{e}");
}
