"""Runs a one-tool agent of the OpenAI Agents SDK (`openai-agents`) against a running
litellm-rs proxy, through `/v1/responses`, unchanged.

Run by tests/e2e/clients.rs with PROXY_URL, PROXY_KEY, MODEL (a model group served by a
translated provider) and EXPECTED_REPLY set; exits non-zero when a check fails.
"""
import asyncio
import os
import sys

from agents import (
    Agent,
    Runner,
    function_tool,
    set_default_openai_api,
    set_default_openai_client,
    set_tracing_disabled,
)
from openai import AsyncOpenAI

client = AsyncOpenAI(base_url=os.environ["PROXY_URL"], api_key=os.environ["PROXY_KEY"], max_retries=0)
set_default_openai_client(client, use_for_tracing=False)
set_default_openai_api("responses")
set_tracing_disabled(True)

calls = []


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    calls.append(city)
    return f"18C and sunny in {city}"


agent = Agent(
    name="weather",
    instructions="Answer with the weather tool.",
    model=os.environ["MODEL"],
    tools=[get_weather],
)

failed = 0
try:
    result = asyncio.run(Runner.run(agent, "What is the weather in Paris?"))
    assert calls == ["Paris"], calls
    assert result.final_output == os.environ["EXPECTED_REPLY"], result.final_output
    print("ok   one-tool agent through /v1/responses")
except Exception as e:  # noqa: BLE001 - report the failure
    failed = 1
    print(f"FAIL one-tool agent through /v1/responses: {type(e).__name__}: {e}")
print(f"{1 - failed} passed, {failed} failed")
sys.exit(failed)
