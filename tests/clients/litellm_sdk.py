"""Drives a running litellm-rs proxy with the LiteLLM Python SDK, unchanged: the
`litellm_proxy/<model>` provider with `api_base` and `api_key`, as LiteLLM's docs show.

Run by tests/e2e/clients.rs with PROXY_URL and PROXY_KEY set; prints one line per check and
exits non-zero when any fails.
"""
import os

import litellm

from checks import check, run

BASE = os.environ["PROXY_URL"]
KEY = os.environ["PROXY_KEY"]
litellm.num_retries = 0
litellm.telemetry = False


def call(**kw):
    kw.setdefault("api_base", BASE)
    kw.setdefault("api_key", KEY)
    return litellm.completion(**kw)


@check("completion through litellm_proxy/")
def _():
    r = call(model="litellm_proxy/mock-gpt", messages=[{"role": "user", "content": "Hello!"}])
    assert r.choices[0].message.content == "Hello from the mock", r
    assert r.choices[0].finish_reason == "stop", r
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0, r.usage


@check("streaming completion")
def _():
    text, finish = "", None
    for chunk in call(
        model="litellm_proxy/echo",
        messages=[{"role": "user", "content": "stream these words"}],
        stream=True,
    ):
        for c in chunk.choices:
            text += c.delta.content or ""
            finish = c.finish_reason or finish
    assert "stream these words" in text, text
    assert finish == "stop", finish


@check("async completion")
def _():
    import asyncio

    async def go():
        return await litellm.acompletion(
            model="litellm_proxy/mock-gpt",
            messages=[{"role": "user", "content": "hi"}],
            api_base=BASE,
            api_key=KEY,
        )

    r = asyncio.run(go())
    assert r.choices[0].message.content == "Hello from the mock", r


@check("embedding")
def _():
    r = litellm.embedding(
        model="litellm_proxy/mock-embedding", input=["a", "b"], api_base=BASE, api_key=KEY
    )
    assert len(r.data) == 2, r
    assert len(r.data[0]["embedding"]) > 0 and all(isinstance(x, float) for x in r.data[0]["embedding"])


@check("tools")
def _():
    tools = [{
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }]
    r = call(
        model="litellm_proxy/tools-gpt",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=tools,
    )
    tc = r.choices[0].message.tool_calls[0]
    assert tc.function.name == "get_weather" and tc.function.arguments == '{"city":"Paris"}', tc


@check("upstream rate limit is litellm.RateLimitError")
def _():
    try:
        call(model="litellm_proxy/limited", messages=[{"role": "user", "content": "x"}])
    except litellm.RateLimitError as e:
        assert e.status_code == 429, e
    else:
        raise AssertionError("no error")


@check("wrong key is litellm.AuthenticationError")
def _():
    try:
        call(model="litellm_proxy/mock-gpt", messages=[{"role": "user", "content": "x"}], api_key="sk-wrong")
    except litellm.AuthenticationError as e:
        assert e.status_code == 401, e
    else:
        raise AssertionError("no error")


@check("unknown model is litellm.BadRequestError")
def _():
    try:
        call(model="litellm_proxy/nope", messages=[{"role": "user", "content": "x"}])
    except litellm.BadRequestError as e:
        assert e.status_code == 400 and "nope" in str(e), e
    else:
        raise AssertionError("no error")


run()
