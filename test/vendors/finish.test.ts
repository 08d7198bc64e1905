/**
 * What happens to a vendor's connection once its answer has ended: the rest of the body (the
 * `[DONE]`, the chunked terminator) is read, so the keep-alive connection serves the next call; a
 * vendor that keeps talking after its answer ended is cut off rather than read forever.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VendorRegion } from '../../src/config/index.js';
import type { CanonicalRequest } from '../../src/domain/index.js';
import { createOpenAIAdapter } from '../../src/vendors/openai/adapter.js';
import { createVendorDispatcher } from '../../src/vendors/index.js';
import { collectStream } from '../helpers/vendor-calls.js';
import { seedConfig } from '../helpers/simulator.js';

const request: CanonicalRequest = { model: 'gpt-4.1', maxTokens: 20, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] };
const chunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-f', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const ANSWER = `${chunk({ role: 'assistant', content: 'Hello' }, null)}${chunk({}, 'stop')}data: [DONE]\n\n`;

/** How the test vendor behaves after it has written the whole answer. */
type After = 'end-later' | 'chatter';

describe('a vendor stream whose answer has ended', () => {
  const sockets = new Set<Socket>();
  const closed = new Set<Socket>();
  const chatter: ServerResponse[] = [];
  let after: After = 'end-later';
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const socket = res.socket!;
      if (!sockets.has(socket)) socket.once('close', () => closed.add(socket));
      sockets.add(socket);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(ANSWER);
      // The body's end comes after the answer's: the caller has its answer before undici has the terminator.
      if (after === 'end-later') setTimeout(() => res.end(), 30);
      else {
        chatter.push(res);
        const more = setInterval(() => (res.writableEnded || res.destroyed ? clearInterval(more) : res.write(`: ${'x'.repeat(1024)}\n\n`)), 2);
      }
    });
  });
  const dispatcher = createVendorDispatcher({ keepAliveTimeoutMs: 60_000 });
  let vendorRegion: VendorRegion;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const seed = (await seedConfig()).vendorRegions.openai!;
    vendorRegion = { ...seed, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
  });
  afterAll(async () => {
    for (const res of chatter) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await dispatcher.close();
  });
  const adapter = () => createOpenAIAdapter(vendorRegion, { dispatcher, secrets: () => Promise.resolve('sk-finish') });
  const deployment = () => vendorRegion.deployments['gpt-4.1']!;

  it('reads the rest of the body, so one keep-alive connection serves the calls that follow', async () => {
    after = 'end-later';
    sockets.clear();
    for (let i = 0; i < 3; i++) {
      const { text, events } = await collectStream(await adapter().stream(request, { deployment: deployment() }));
      expect(text).toBe('Hello');
      expect(events.at(-1)).toMatchObject({ type: 'end', stopReason: 'end_turn' });
      // The next call waits until this body's end is in, as a real caller's next request would.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(sockets.size).toBe(1);
    expect([...sockets].every((s) => !closed.has(s))).toBe(true);
  });

  it('cuts off a vendor that keeps writing after its answer ended', async () => {
    after = 'chatter';
    sockets.clear();
    const { text } = await collectStream(await adapter().stream(request, { deployment: deployment() }));
    expect(text).toBe('Hello');
    const [socket] = [...sockets];
    expect(socket).toBeDefined();
    // Past 16 kB of chatter (about 30 ms of it) the connection is given up.
    await expect.poll(() => closed.has(socket!), { timeout: 5_000 }).toBe(true);
  });
});
