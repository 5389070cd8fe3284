// Drives a running litellm-rs proxy with the official OpenAI Node SDK, unchanged.
// Run by tests/e2e/clients.rs with PROXY_URL and PROXY_KEY set (and NODE_PATH pointing at the
// installed SDK); prints one line per check and exits non-zero when any fails.
import OpenAI from "openai";

const BASE = process.env.PROXY_URL;
const KEY = process.env.PROXY_KEY;
const client = new OpenAI({ baseURL: BASE, apiKey: KEY, maxRetries: 0 });
const checks = [];
const check = (name, fn) => checks.push([name, fn]);
function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${typeof msg === "string" ? msg : JSON.stringify(msg)}`);
}

check("chat completion", async () => {
  const r = await client.chat.completions.create({
    model: "mock-gpt",
    messages: [{ role: "user", content: "Hello!" }],
  });
  assert(r.object === "chat.completion", r);
  assert(r.choices[0].message.content === "Hello from the mock", r);
  assert(r.usage.total_tokens === r.usage.prompt_tokens + r.usage.completion_tokens, r.usage);
});

check("raw response headers", async () => {
  const { response } = await client.chat.completions
    .create({ model: "mock-gpt", messages: [{ role: "user", content: "x" }] })
    .withResponse();
  assert(response.headers.get("x-litellm-model-group") === "mock-gpt", [...response.headers]);
});

check("stream with include_usage", async () => {
  const stream = await client.chat.completions.create({
    model: "echo",
    messages: [{ role: "user", content: "stream these words" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta.content ?? "";
      finish = c.finish_reason ?? finish;
    }
  }
  assert(text.includes("stream these words"), text);
  assert(finish === "stop", finish);
  assert(usage && usage.completion_tokens > 0, usage);
});

check("embeddings (base64 on the wire, decoded by the SDK)", async () => {
  const r = await client.embeddings.create({ model: "mock-embedding", input: ["a", "b"] });
  assert(r.data.length === 2 && r.data[0].embedding.length > 0, r);
  assert(r.data[0].embedding.every((x) => typeof x === "number"), r.data[0]);
});

check("tools", async () => {
  const tools = [{
    type: "function",
    function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
  }];
  const r = await client.chat.completions.create({
    model: "tools-gpt",
    messages: [{ role: "user", content: "Weather in Paris?" }],
    tools,
  });
  const call = r.choices[0].message.tool_calls[0];
  assert(call.function.name === "get_weather" && call.function.arguments === '{"city":"Paris"}', call);
});

check("models list", async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert(JSON.stringify(ids) === JSON.stringify(["mock-gpt", "echo", "mock-embedding", "mock-moderation", "mock-image", "limited", "tools-gpt"]), ids);
});

check("responses: create, stream, retrieve", async () => {
  const r = await client.responses.create({ model: "mock-gpt", input: "Hello!" });
  assert(r.object === "response" && r.status === "completed", r);
  assert(r.output_text === "Hello from the mock", r.output_text);
  const stream = await client.responses.create({ model: "echo", input: "stream these words", stream: true });
  let text = "";
  let done = null;
  for await (const event of stream) {
    if (event.type === "response.output_text.delta") text += event.delta;
    if (event.type === "response.completed") done = event.response;
  }
  assert(done && done.status === "completed", done);
  assert(text.length > 0 && text === done.output[0].content[0].text, [text, done]);
  const got = await client.responses.retrieve(done.id);
  assert(got.id === done.id, got);
});

check("legacy completions", async () => {
  const r = await client.completions.create({ model: "mock-gpt", prompt: "Say hi", max_tokens: 16 });
  assert(r.object === "text_completion", r);
  assert(r.choices[0].text === "Hello from the mock", r.choices[0]);
  const stream = await client.completions.create({ model: "echo", prompt: "stream these words", stream: true });
  let text = "";
  for await (const chunk of stream) {
    for (const c of chunk.choices) text += c.text;
  }
  assert(text.length > 0, text);
});

check("upstream rate limit is RateLimitError", async () => {
  try {
    await client.chat.completions.create({ model: "limited", messages: [{ role: "user", content: "x" }] });
  } catch (e) {
    assert(e instanceof OpenAI.RateLimitError && e.status === 429, String(e));
    return;
  }
  throw new Error("no error");
});

check("wrong key is AuthenticationError", async () => {
  const bad = new OpenAI({ baseURL: BASE, apiKey: "sk-wrong", maxRetries: 0 });
  try {
    await bad.models.list();
  } catch (e) {
    assert(e instanceof OpenAI.AuthenticationError && e.status === 401, String(e));
    return;
  }
  throw new Error("no error");
});

check("unknown model is BadRequestError", async () => {
  try {
    await client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] });
  } catch (e) {
    assert(e instanceof OpenAI.BadRequestError && e.status === 400 && String(e).includes("nope"), String(e));
    return;
  }
  throw new Error("no error");
});

let failed = 0;
for (const [name, fn] of checks) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}
console.log(`${checks.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
