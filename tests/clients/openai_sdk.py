"""Drives a running litellm-rs proxy with the official OpenAI Python SDK, unchanged.

Run by tests/e2e/clients.rs with PROXY_URL and PROXY_KEY set; exits non-zero on the first
failed check and prints one line per check.
"""
import base64
import os
import struct

import openai
from openai import OpenAI

from checks import check, run

BASE = os.environ["PROXY_URL"]
KEY = os.environ["PROXY_KEY"]
client = OpenAI(base_url=BASE, api_key=KEY, max_retries=0)


@check("chat completion")
def _():
    r = client.chat.completions.create(
        model="mock-gpt", messages=[{"role": "user", "content": "Hello!"}]
    )
    assert r.object == "chat.completion", r
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content == "Hello from the mock", r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0


@check("raw response headers")
def _():
    raw = client.chat.completions.with_raw_response.create(
        model="mock-gpt", messages=[{"role": "user", "content": "Hello!"}]
    )
    assert raw.headers["x-litellm-model-group"] == "mock-gpt", dict(raw.headers)
    assert raw.parse().choices[0].message.content == "Hello from the mock"


@check("stream with include_usage")
def _():
    stream = client.chat.completions.create(
        model="echo",
        messages=[{"role": "user", "content": "stream these words"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage, finish = "", None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for c in chunk.choices:
            text += c.delta.content or ""
            finish = c.finish_reason or finish
    assert "stream these words" in text, text
    assert finish == "stop", finish
    assert usage is not None and usage.completion_tokens > 0, usage


@check("stream without usage")
def _():
    chunks = list(
        client.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "x"}], stream=True
        )
    )
    assert chunks and all(c.usage is None for c in chunks), chunks[-1]


@check("embeddings, default (base64 on the wire)")
def _():
    r = client.embeddings.create(model="mock-embedding", input=["a", "b"])
    assert len(r.data) == 2 and len(r.data[0].embedding) > 0
    assert all(isinstance(x, float) for x in r.data[0].embedding)


@check("embeddings, float")
def _():
    f = client.embeddings.create(model="mock-embedding", input="a", encoding_format="float")
    b = client.embeddings.with_raw_response.create(
        model="mock-embedding", input="a", encoding_format="base64"
    )
    raw = b.http_response.json()["data"][0]["embedding"]
    decoded = struct.unpack("<%df" % (len(base64.b64decode(raw)) // 4), base64.b64decode(raw))
    assert len(decoded) == len(f.data[0].embedding)
    assert all(abs(x - y) < 1e-6 for x, y in zip(decoded, f.data[0].embedding))


@check("models list")
def _():
    ids = [m.id for m in client.models.list()]
    assert ids == ["mock-gpt", "echo", "mock-embedding", "mock-moderation", "mock-image", "limited",
                   "tools-gpt"], ids


@check("tools: a tool call, then the tool result round trip")
def _():
    tools = [{
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }]
    msgs = [{"role": "user", "content": "Weather in Paris?"}]
    r = client.chat.completions.create(model="tools-gpt", messages=msgs, tools=tools, tool_choice="auto")
    call = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls", r
    assert call.type == "function" and call.function.name == "get_weather", call
    assert call.function.arguments == '{"city":"Paris"}', call.function.arguments
    msgs.append(r.choices[0].message.model_dump(exclude_none=True))
    msgs.append({"role": "tool", "tool_call_id": call.id, "content": "18C, sunny"})
    r2 = client.chat.completions.create(model="tools-gpt", messages=msgs, tools=tools)
    assert r2.choices[0].message.tool_calls is not None


@check("legacy completions, plain and streamed")
def _():
    r = client.completions.create(model="mock-gpt", prompt="Say hi", max_tokens=16)
    assert r.object == "text_completion", r
    assert r.choices[0].text == "Hello from the mock", r.choices[0].text
    assert r.usage.total_tokens > 0, r.usage
    chunks = list(client.completions.create(model="echo", prompt="stream these words", stream=True))
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert len(chunks) > 1 and text, chunks
    assert any(c.choices and c.choices[0].finish_reason == "stop" for c in chunks), chunks[-2:]


@check("responses: create, retrieve, input_items, delete")
def _():
    r = client.responses.create(model="mock-gpt", input="Hello!", instructions="Be kind.")
    assert r.object == "response" and r.status == "completed", r
    assert r.output_text == "Hello from the mock", r.output_text
    assert r.instructions == "Be kind.", r.instructions
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens > 0, r.usage
    got = client.responses.retrieve(r.id)
    assert got.id == r.id and got.output_text == r.output_text, got
    items = client.responses.input_items.list(r.id)
    assert items.data[0].type == "message" and items.data[0].role == "user", items
    assert items.data[0].content[0].text == "Hello!", items.data[0]
    client.responses.delete(r.id)
    try:
        client.responses.retrieve(r.id)
    except openai.NotFoundError as e:
        assert e.status_code == 404, e
    else:
        raise AssertionError("a deleted response was still there")


@check("responses: stream")
def _():
    with client.responses.stream(model="echo", input="stream these words") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert len(deltas) > 1, deltas
    assert final.status == "completed", final
    assert "".join(deltas) == final.output_text != "", (deltas, final.output_text)
    assert final.usage.output_tokens > 0, final.usage


@check("responses: a function call, then its output through previous_response_id")
def _():
    tools = [{
        "type": "function",
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }]
    r = client.responses.create(model="tools-gpt", input="Weather in Paris?", tools=tools)
    calls = [o for o in r.output if o.type == "function_call"]
    assert calls and calls[0].name == "get_weather", r.output
    assert calls[0].arguments == '{"city":"Paris"}', calls[0].arguments
    r2 = client.responses.create(
        model="tools-gpt",
        previous_response_id=r.id,
        tools=tools,
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "18C, sunny"}],
    )
    assert r2.status == "completed" and r2.previous_response_id == r.id, r2


@check("moderations")
def _():
    r = client.moderations.create(model="mock-moderation", input=["hello", "world"])
    assert len(r.results) == 2 and r.results[0].flagged is False, r
    assert r.results[0].categories.violence is False, r.results[0]


@check("images: b64_json and url")
def _():
    r = client.images.generate(model="mock-image", prompt="a lighthouse", n=2, size="256x256",
                               response_format="b64_json")
    assert len(r.data) == 2, r
    png = base64.b64decode(r.data[0].b64_json)
    assert png.startswith(b"\x89PNG"), png[:8]
    r = client.images.generate(model="mock-image", prompt="a lighthouse", response_format="url")
    assert r.data[0].url.startswith("data:image/png;base64,"), r.data[0].url[:40]


@check("unknown model is BadRequestError")
def _():
    try:
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    except openai.BadRequestError as e:
        assert e.status_code == 400 and "nope" in str(e), e
    else:
        raise AssertionError("no error")


@check("upstream rate limit is RateLimitError")
def _():
    try:
        client.chat.completions.create(model="limited", messages=[{"role": "user", "content": "x"}])
    except openai.RateLimitError as e:
        assert e.status_code == 429, e
    else:
        raise AssertionError("no error")


@check("wrong key is AuthenticationError")
def _():
    bad = OpenAI(base_url=BASE, api_key="sk-wrong", max_retries=0)
    try:
        bad.models.list()
    except openai.AuthenticationError as e:
        assert e.status_code == 401, e
    else:
        raise AssertionError("no error")


run()
