// Responses API clients against the proxy's /v1/responses; run by
// tests/integration_tests/test_responses_clients.py.
//
//   node responses.mjs <base_url> <scenario> [options JSON]
//
// options: {"model": "...", "prompts": ["...", ...], "body": {extra request body fields}}
// (defaults: the up-down game, fast and in English, answering "-9"). `body` goes into every
// request as it is: the Vercel AI SDK has no extra-body option, so the `fetch` we give it (its
// documented `fetch` setting) adds it; the openai SDK takes extra fields in its params.
//
// Prints one JSON object per line: what the SDK handed to the caller, then one
// {"kind": "wire", ...} line per HTTP exchange (the request body the SDK sent, the status,
// the X-LangGraph-Thread-Id header, and every SSE event or the JSON body the SDK received),
// for the test to validate against OpenAI's schema.
//   vercel-stream    - ai's streamText() on createOpenAI().responses(model): a {"kind": "part"}
//                      line per fullStream part, then {"kind": "result", text, reasoning, ...}
//   vercel-generate  - ai's generateText(): {"kind": "result", ..., "content": [...]}
//   vercel-turns     - one generateText() turn per prompt, each sending the whole history
//                      (the SDK's default store: true, so earlier output goes as item_reference)
//                      with streamText() on the 2nd, 4th, ...: a {"kind": "result"} per turn
//   vercel-error     - streamText() on a run that fails mid-stream: {"kind": "error", ...}
//   openai-create    - openai's responses.create({stream: false}), then
//                      responses.retrieve(id): {"kind": "response"} and {"kind": "retrieved"}
//   openai-stream    - responses.create({stream: true}): a {"kind": "event"} line per event
//   openai-helper    - responses.stream(...).finalResponse(): {"kind": "final", text, ...}
//   openai-errors    - an unknown model (both ways) and a run failing mid-stream
// Exits non-zero on anything unexpected.
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText } from "ai";
import OpenAI from "openai";

const [baseURL, scenario, override] = process.argv.slice(2);
const options = {
  model: "up-down-game",
  prompts: ["-9"],
  body: { context: { pace: 0, seed: 11, locale: "en" } },
  ...(override ? JSON.parse(override) : {}),
};

function print(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

// Every exchange, recorded as it was on the wire.
const wire = [];

// A `fetch` that records the exchange; `extra` goes into the request body.
const recording = (extra) => async (url, init = {}) => {
  let request = null;
  if (typeof init.body === "string") {
    request = { ...JSON.parse(init.body), ...extra };
    init = { ...init, body: JSON.stringify(request) };
  }
  const response = await fetch(url, init);
  const entry = {
    kind: "wire",
    method: init.method ?? "GET",
    path: new URL(String(url)).pathname,
    request,
    status: response.status,
    thread: response.headers.get("x-langgraph-thread-id"),
    content_type: response.headers.get("content-type"),
  };
  entry.read = response
    .clone()
    .text()
    .then((text) => (entry.raw = text));
  wire.push(entry);
  return response;
};

async function printWire() {
  for (const entry of wire) {
    await entry.read;
    const { read, raw, ...line } = entry;
    if ((line.content_type ?? "").startsWith("text/event-stream")) {
      line.events = raw
        .split("\n")
        .filter((row) => row.startsWith("data: "))
        .map((row) => JSON.parse(row.slice(6)));
    } else {
      line.body = raw ? JSON.parse(raw) : null;
    }
    print(line);
  }
}

const provider = createOpenAI({ baseURL, apiKey: "unused", fetch: recording(options.body) });
const client = new OpenAI({
  baseURL,
  apiKey: "unused",
  maxRetries: 0,
  timeout: 60_000,
  fetch: recording({}),
});

function partLine(part) {
  const line = { kind: "part", type: part.type };
  for (const key of ["id", "text", "finishReason"]) if (part[key] !== undefined) line[key] = part[key];
  const itemId = part.providerMetadata?.openai?.itemId;
  if (itemId) line.item_id = itemId;
  return line;
}

function resultLine(result, extra = {}) {
  return {
    kind: "result",
    text: result.text,
    reasoning: result.reasoningText ?? null,
    finish_reason: result.finishReason,
    usage: result.usage,
    response_id: result.providerMetadata?.openai?.responseId ?? null,
    content: result.content.map((part) => ({
      type: part.type,
      text: part.text,
      item_id: part.providerMetadata?.openai?.itemId ?? null,
    })),
    warnings: result.warnings ?? [],
    ...extra,
  };
}

async function vercelStream() {
  const result = streamText({
    model: provider.responses(options.model),
    prompt: options.prompts[0],
    maxRetries: 0,
  });
  for await (const part of result.fullStream) {
    if (part.type === "error") throw part.error;
    print(partLine(part));
  }
  print(
    resultLine({
      text: await result.text,
      reasoningText: await result.reasoningText,
      finishReason: await result.finishReason,
      usage: await result.usage,
      providerMetadata: await result.providerMetadata,
      content: await result.content,
      warnings: await result.warnings,
    }),
  );
}

async function vercelGenerate() {
  const result = await generateText({
    model: provider.responses(options.model),
    prompt: options.prompts[0],
    maxRetries: 0,
  });
  print(resultLine(result));
}

async function vercelTurns() {
  const messages = [];
  for (const [turn, prompt] of options.prompts.entries()) {
    messages.push({ role: "user", content: prompt });
    const model = provider.responses(options.model);
    let result;
    if (turn % 2 === 1) {
      const streamed = streamText({ model, messages, maxRetries: 0 });
      for await (const part of streamed.fullStream) if (part.type === "error") throw part.error;
      result = {
        text: await streamed.text,
        reasoningText: await streamed.reasoningText,
        finishReason: await streamed.finishReason,
        usage: await streamed.usage,
        providerMetadata: await streamed.providerMetadata,
        content: await streamed.content,
        warnings: await streamed.warnings,
        response: await streamed.response,
      };
    } else {
      result = await generateText({ model, messages, maxRetries: 0 });
    }
    print(resultLine(result, { turn, streamed: turn % 2 === 1 }));
    messages.push(...result.response.messages);
  }
}

async function vercelError() {
  const result = streamText({
    model: provider.responses(options.model),
    prompt: options.prompts[0],
    maxRetries: 0,
    onError: () => {}, // the error comes as a part below
  });
  let text = "";
  const errors = [];
  for await (const part of result.fullStream) {
    if (part.type === "text-delta") text += part.text;
    if (part.type === "error") errors.push(String(part.error?.message ?? part.error));
    if (part.type === "finish") print({ kind: "finish", finish_reason: part.finishReason });
  }
  print({ kind: "error", text, errors });
}

function responseLine(kind, response) {
  return {
    kind,
    id: response.id,
    object: response.object,
    status: response.status,
    model: response.model,
    output_text: response.output_text ?? null,
    output: response.output,
    usage: response.usage ?? null,
  };
}

async function openaiCreate() {
  const response = await client.responses.create({
    model: options.model,
    input: options.prompts[0],
    ...options.body,
  });
  print(responseLine("response", response));
  print(responseLine("retrieved", await client.responses.retrieve(response.id)));
}

async function openaiStream() {
  const stream = await client.responses.create({
    model: options.model,
    input: options.prompts[0],
    stream: true,
    ...options.body,
  });
  for await (const event of stream) print({ kind: "event", type: event.type, event });
}

async function openaiHelper() {
  const stream = client.responses.stream({
    model: options.model,
    input: options.prompts[0],
    ...options.body,
  });
  let deltas = "";
  let reasoning = "";
  stream.on("response.output_text.delta", (event) => (deltas += event.delta));
  stream.on("response.reasoning_summary_text.delta", (event) => (reasoning += event.delta));
  const response = await stream.finalResponse();
  print({ ...responseLine("final", response), deltas, reasoning });
}

function errorLine(name, error, events = 0) {
  if (!(error instanceof OpenAI.APIError)) throw error;
  print({
    kind: "error",
    case: name,
    name: error.constructor.name,
    status: error.status ?? null,
    message: error.message,
    type: error.type ?? null,
    code: error.code ?? null,
    param: error.param ?? null,
    events,
  });
}

async function expectError(name, call) {
  let events = 0;
  try {
    const result = await call();
    if (result && typeof result[Symbol.asyncIterator] === "function") {
      for await (const event of result) {
        events++;
        if (event.type === "response.failed") {
          print({ kind: "failed", case: name, events, response: event.response });
          return;
        }
      }
    }
  } catch (error) {
    errorLine(name, error, events);
    return;
  }
  throw new Error(`${name}: no error raised (${events} events)`);
}

async function openaiErrors() {
  const unknown = { model: "no-such-model", input: "hi" };
  await expectError("unknown-model", () => client.responses.create(unknown));
  await expectError("unknown-model-stream", () =>
    client.responses.create({ ...unknown, stream: true }),
  );
  await expectError("fails-mid-stream", () =>
    client.responses.create({
      model: "bench",
      input: "50",
      stream: true,
      context: { fail_after: 10 },
    }),
  );
}

const scenarios = {
  "vercel-stream": vercelStream,
  "vercel-generate": vercelGenerate,
  "vercel-turns": vercelTurns,
  "vercel-error": vercelError,
  "openai-create": openaiCreate,
  "openai-stream": openaiStream,
  "openai-helper": openaiHelper,
  "openai-errors": openaiErrors,
};
if (!scenarios[scenario]) {
  process.stderr.write(`usage: node responses.mjs <base_url> ${Object.keys(scenarios).join("|")}\n`);
  process.exit(2);
}
try {
  await scenarios[scenario]();
} finally {
  await printWire();
}
