/**
 * The vendor under the overhead bench (issue 12's "mock that answers at once"): an OpenAI Chat
 * Completions endpoint that answers every request at once with the same sixteen-token answer,
 * whole or as the server-sent events a real stream has (a role chunk, one chunk per token, the
 * finish, the usage, `[DONE]`, with the fields OpenAI's chunks carry). A stream goes out an event
 * a write, one turn apart, as a vendor sends tokens as it makes them, so the router reads them
 * one by one (`MOCK_STREAM=whole` writes them at once, and the router joins them into one delta).
 * It checks the method, path and key and reads the body, and does nothing else, so
 * nearly all of the machine's CPU goes to what is measured: 0.03-0.06 ms of CPU a request on this
 * 2-core machine, where the simulator (a vendor with quotas, latency and faults) took 0.5-1.0 ms,
 * as much as the router under test, and took it from the router (`VENDOR=simulator` uses it).
 * Run with tsx by the bench; prints `{"url","apiKey"}` once listening.
 */
import { createServer } from 'node:http';

const API_KEY = 'sk-canned-vendor-000000000000000000000000';
const WHOLE = process.env.MOCK_STREAM === 'whole';
const MAX_BODY_BYTES = 1024 * 1024;
const TOKENS = ['The', ' router', ' adds', ' less', ' than', ' a', ' millisecond', ' to', ' each', ' request', ' it', ' routes', ',', ' by', ' design', '.'];
const created = Math.floor(Date.now() / 1000);
let served = 0;

function chunk(id: string, model: string, choices: string, usage = 'null'): string {
  return `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${model},"service_tier":"default","system_fingerprint":"fp_canned","choices":[${choices}],"usage":${usage}}\n\n`;
}

/** The stream's events, each as written; `model` already a JSON string. */
function stream(id: string, model: string): string[] {
  const events = [chunk(id, model, '{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}')];
  for (const token of TOKENS) events.push(chunk(id, model, `{"index":0,"delta":{"content":${JSON.stringify(token)}},"logprobs":null,"finish_reason":null}`));
  events.push(chunk(id, model, '{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}'));
  events.push(chunk(id, model, '', `{"prompt_tokens":12,"completion_tokens":${TOKENS.length},"total_tokens":${12 + TOKENS.length}}`));
  events.push('data: [DONE]\n\n');
  return events;
}

function whole(id: string, model: string): string {
  return JSON.stringify({
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: TOKENS.join('') }, finish_reason: 'length' }],
    usage: { prompt_tokens: 12, completion_tokens: TOKENS.length, total_tokens: 12 + TOKENS.length },
  });
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"Unknown request URL","type":"invalid_request_error","code":"unknown_url"}}');
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    // A body no chat request needs is refused, not buffered: the mock is a server like any other.
    if (size > MAX_BODY_BYTES) {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end('{"error":{"message":"Request body too large","type":"invalid_request_error"}}');
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (size > MAX_BODY_BYTES) return;
    if (req.headers.authorization !== `Bearer ${API_KEY}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}');
      return;
    }
    let body: { model?: unknown; stream?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"We could not parse the JSON body of your request.","type":"invalid_request_error"}}');
      return;
    }
    const id = `chatcmpl-canned-${served++}`;
    const model = typeof body.model === 'string' ? body.model : 'unknown';
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(whole(id, model));
      return;
    }
    // Chunked transfer, as the vendors send it: the terminator follows the events.
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const events = stream(id, JSON.stringify(model));
    if (WHOLE) {
      res.write(events.join(''));
      res.end();
      return;
    }
    let next = 0;
    const write = () => {
      if (res.destroyed) return;
      res.write(events[next++]);
      if (next < events.length) setImmediate(write);
      else res.end();
    };
    write();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(JSON.stringify({ url: `http://127.0.0.1:${address.port}`, apiKey: API_KEY }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
