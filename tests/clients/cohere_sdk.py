"""Drives a running litellm-rs proxy with the official Cohere Python SDK (v2 client), unchanged:
rerank through `/v2/rerank`.

Run by tests/e2e/clients.rs with PROXY_URL (the proxy's root) and PROXY_KEY set; exits non-zero
on a failed check and prints one line per check.
"""
import os

import cohere

from checks import check, run

client = cohere.ClientV2(api_key=os.environ["PROXY_KEY"], base_url=os.environ["PROXY_URL"])


@check("rerank: documents ordered by relevance, top_n of them")
def _():
    docs = [
        "Carson City is the capital city of Nevada.",
        "Washington, D.C. is the capital of the United States.",
        "The capital city of France is Paris.",
    ]
    r = client.rerank(model="rerank", query="What is the capital of the United States?",
                      documents=docs, top_n=2)
    assert [x.index for x in r.results] == [1, 0], r.results
    assert r.results[0].relevance_score > r.results[1].relevance_score, r.results
    assert r.meta.billed_units.search_units == 1, r.meta


@check("rerank: an unknown model is a BadRequestError")
def _():
    try:
        client.rerank(model="nope", query="q", documents=["a"])
    except cohere.errors.BadRequestError as e:
        assert e.status_code == 400, e
    else:
        raise AssertionError("no error")


run()
