/**
 * The vendor under the overhead bench (issue 12's "mock that answers at once"): an OpenAI Chat
 * Completions endpoint that answers every request at once with the same sixteen-token answer,
 * whole or as the server-sent events a real stream has (a role chunk, one chunk per token, the
 * finish, the usage, `[DONE]`). It checks the key and reads the body, and does nothing else, so
 * nearly all of the machine's CPU goes to what is measured: 0.03-0.06 ms of CPU a request on this
 * 2-core machine, where the simulator (a vendor with quotas, latency and faults) took 0.5-1.0 ms,
 * as much as the router under test, and took it from the router (`VENDOR=simulator` uses it).
 * Run with tsx by the bench; prints `{"url","apiKey"}` once listening.
 */
import { createServer } from 'node:http';

const API_KEY = 'sk-canned-vendor-000000000000000000000000';
const TOKENS = ['The', ' router', ' adds', ' less', ' than', ' a', ' millisecond', ' to', ' each', ' request', ' it', ' routes', ',', ' by', ' design', '.'];
const created = Math.floor(Date.now() / 1000);
let served = 0;

function chunk(id: string, model: string, choices: string, usage = ''): string {
  return `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":"${model}","choices":[${choices}]${usage}}\n\n`;
}

function stream(id: string, model: string): string {
  const parts = [chunk(id, model, '{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}')];
  for (const token of TOKENS) parts.push(chunk(id, model, `{"index":0,"delta":{"content":${JSON.stringify(token)}},"finish_reason":null}`));
  parts.push(chunk(id, model, '{"index":0,"delta":{},"finish_reason":"length"}'));
  parts.push(chunk(id, model, '', `,"usage":{"prompt_tokens":12,"completion_tokens":${TOKENS.length},"total_tokens":${12 + TOKENS.length}}`));
  parts.push('data: [DONE]\n\n');
  return parts.join('');
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
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
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
    if (body.stream === true) {
      // Written in one piece and then ended, as chunked transfer: the terminator follows the events.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(stream(id, model));
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end(whole(id, model));
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(JSON.stringify({ url: `http://127.0.0.1:${address.port}`, apiKey: API_KEY }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
