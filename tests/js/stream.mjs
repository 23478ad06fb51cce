// The official `openai` JS SDK against the proxy; run by tests/integration_tests/test_clients_js.py.
//
//   node stream.mjs <base_url> <scenario> [request JSON]
//
// The optional request JSON replaces the default request (the up-down game), e.g. to talk to
// the tool-using assistant.
//
// Prints one JSON object per line, describing exactly what the SDK handed to the caller:
//   stream  - chat.completions.create({stream: true}): one {"kind": "chunk", ...} line per chunk
//   final   - the chat.completions.stream() helper's finalChatCompletion(), then a
//             non-streaming create(): {"kind": "final" | "message", ...}
//   errors  - an unknown model (non-streaming and streaming) and a run that fails mid-stream:
//             {"kind": "error", "case", "name", "status", "message", "type", "code", "param",
//             "chunks", "content"}
// Exits non-zero on anything unexpected (an error where none was expected, or none where one was).
import OpenAI from "openai";

const [baseURL, scenario, override] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0, timeout: 60_000 });
// Extra body fields go into the request as they are (the JS SDK's `extra_body`).
const FAST_EN = { pace: 0, seed: 11, locale: "en" };
const request = override
  ? JSON.parse(override)
  : {
      model: "up-down-game",
      messages: [{ role: "user", content: "-9" }],
      context: FAST_EN,
    };

function print(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

function chunkLine(chunk) {
  const choice = chunk.choices[0];
  return {
    kind: "chunk",
    id: chunk.id,
    object: chunk.object,
    model: chunk.model,
    choices: chunk.choices.length,
    role: choice?.delta?.role ?? null,
    content: choice?.delta?.content ?? null,
    reasoning_content: choice?.delta?.reasoning_content ?? null,
    finish_reason: choice?.finish_reason ?? null,
    usage: chunk.usage ?? null,
  };
}

function errorLine(name, error, chunks = 0, content = "") {
  if (!(error instanceof OpenAI.APIError)) throw error;
  print({
    kind: "error",
    case: name,
    name: error.constructor.name,
    not_found: error instanceof OpenAI.NotFoundError,
    status: error.status ?? null,
    message: error.message,
    type: error.type ?? null,
    code: error.code ?? null,
    param: error.param ?? null,
    chunks,
    content,
  });
}

async function stream() {
  const completion = await client.chat.completions.create({
    ...request,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of completion) print(chunkLine(chunk));
}

async function final() {
  const runner = client.chat.completions.stream({
    ...request,
    stream_options: { include_usage: true },
  });
  let deltas = 0;
  runner.on("content", () => deltas++);
  const done = await runner.finalChatCompletion();
  const message = done.choices[0].message;
  print({
    kind: "final",
    content: message.content,
    reasoning_content: message.reasoning_content ?? null,
    finish_reason: done.choices[0].finish_reason,
    content_events: deltas,
    usage: done.usage ?? null,
  });
  const reply = await client.chat.completions.create(request);
  print({
    kind: "message",
    id: reply.id,
    object: reply.object,
    role: reply.choices[0].message.role,
    content: reply.choices[0].message.content,
    reasoning_content: reply.choices[0].message.reasoning_content ?? null,
    finish_reason: reply.choices[0].finish_reason,
    usage: reply.usage ?? null,
  });
}

async function expectError(name, call) {
  let chunks = 0;
  let content = "";
  try {
    const result = await call();
    if (result && typeof result[Symbol.asyncIterator] === "function") {
      for await (const chunk of result) {
        chunks++;
        content += chunk.choices[0]?.delta?.content ?? "";
      }
    }
  } catch (error) {
    errorLine(name, error, chunks, content);
    return;
  }
  throw new Error(`${name}: no error raised (${chunks} chunks)`);
}

async function errors() {
  const unknown = { ...request, model: "no-such-model" };
  await expectError("unknown-model", () => client.chat.completions.create(unknown));
  await expectError("unknown-model-stream", () =>
    client.chat.completions.create({ ...unknown, stream: true }),
  );
  await expectError("fails-mid-stream", () =>
    client.chat.completions.create({
      model: "bench",
      messages: [{ role: "user", content: "50" }],
      stream: true,
      context: { fail_after: 10 },
    }),
  );
}

const scenarios = { stream, final, errors };
if (!scenarios[scenario]) {
  process.stderr.write(`usage: node stream.mjs <base_url> ${Object.keys(scenarios).join("|")}\n`);
  process.exit(2);
}
await scenarios[scenario]();
