"""Drives a running litellm-rs proxy's `/v1/messages` with the official Anthropic Python SDK,
unchanged (base_url = the proxy, api_key = a proxy key sent as x-api-key).

Run by tests/e2e/clients.rs with PROXY_URL and PROXY_KEY set; prints one line per check and
exits non-zero when any fails.
"""
import os

import anthropic

from checks import check, run

BASE = os.environ["PROXY_URL"]
KEY = os.environ["PROXY_KEY"]
client = anthropic.Anthropic(base_url=BASE, api_key=KEY, max_retries=0)


@check("messages.create")
def _():
    m = client.messages.create(
        model="mock-gpt", max_tokens=64, messages=[{"role": "user", "content": "Hello!"}]
    )
    assert m.type == "message" and m.role == "assistant", m
    assert m.content[0].type == "text" and m.content[0].text == "Hello from the mock", m.content
    assert m.stop_reason == "end_turn", m.stop_reason
    assert m.usage.input_tokens > 0 and m.usage.output_tokens > 0, m.usage


@check("system prompt and stream")
def _():
    with client.messages.stream(
        model="echo",
        max_tokens=64,
        system="You are terse.",
        messages=[{"role": "user", "content": "stream these words"}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert "stream these words" in text, text
    assert final.stop_reason == "end_turn", final.stop_reason
    assert final.usage.output_tokens > 0, final.usage


@check("raw stream events in Anthropic's order")
def _():
    events = [
        e.type
        for e in client.messages.create(
            model="echo", max_tokens=16, messages=[{"role": "user", "content": "x"}], stream=True
        )
    ]
    assert events[0] == "message_start" and events[-1] == "message_stop", events
    assert "content_block_start" in events and "content_block_delta" in events, events
    assert events[-2] == "message_delta", events


@check("tool use")
def _():
    m = client.messages.create(
        model="tools-gpt",
        max_tokens=64,
        tools=[{
            "name": "get_weather",
            "description": "Weather in a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }],
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    block = next(b for b in m.content if b.type == "tool_use")
    assert block.name == "get_weather" and block.input == {"city": "Paris"}, block
    assert m.stop_reason == "tool_use", m.stop_reason


@check("count_tokens")
def _():
    r = client.messages.count_tokens(
        model="mock-gpt", messages=[{"role": "user", "content": "how many tokens is this?"}]
    )
    assert r.input_tokens > 0, r


@check("upstream rate limit is RateLimitError")
def _():
    try:
        client.messages.create(
            model="limited", max_tokens=8, messages=[{"role": "user", "content": "x"}]
        )
    except anthropic.RateLimitError as e:
        assert e.status_code == 429, e
    else:
        raise AssertionError("no error")


@check("wrong key is AuthenticationError")
def _():
    bad = anthropic.Anthropic(base_url=BASE, api_key="sk-wrong", max_retries=0)
    try:
        bad.messages.create(model="mock-gpt", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    except anthropic.AuthenticationError as e:
        assert e.status_code == 401, e
    else:
        raise AssertionError("no error")


run()
