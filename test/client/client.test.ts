/**
 * The client library against a real nats-server and a FAKE router node written here: a real NATS
 * subscriber in the `sy-routers` queue group on `sy.req.>` that answers by the request protocol
 * (src/transport/protocol.ts) as each test scripts it, and records what it received, including
 * cancels on `sy.cancel.>`. This tests the client alone; the real node has its own tests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, createClient, type SwitchyardClient } from '../../src/client/index.js';
import { RequestFailedError, type CanonicalRequest, type CanonicalResponse, type StreamEvent } from '../../src/domain/index.js';
import { Header, ROUTER_QUEUE, requestWildcard, type ReplyBody, type ReplyEvent } from '../../src/transport/index.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';

const IDLE_MS = 400;
const REQUEST: CanonicalRequest = { model: 'claude-sonnet-4', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }], maxTokens: 64 };
const RESPONSE: CanonicalResponse = {
  id: 'msg_1',
  model: 'claude-sonnet-4-20250514',
  content: [{ type: 'text', text: 'Hi there' }],
  stopReason: 'end_turn',
  usage: { inputTokens: 3, outputTokens: 2 },
};
const SERVED_BY = { deployment: 'anthropic-us', model: 'claude-sonnet-4', attempts: 1, resumed: 0 };

interface Received {
  subject: string;
  requestId: string;
  headers: Record<string, string>;
  body: unknown;
}

interface Exchange {
  requestId: string;
  /** Sends a reply with the next sequence number and this node's name. */
  send(body: ReplyBody): void;
  /** Sends bytes as they are: malformed replies, chosen sequence numbers. */
  raw(data: string): void;
  /** Stops taking requests, as a node that froze: the queue group sends new ones elsewhere. */
  die(): void;
  /** Resolves when the client cancels this request. */
  cancelled: Promise<void>;
}

interface FakeRouter {
  name: string;
  received: Received[];
  cancels: string[];
  stop(): Promise<void>;
}

let server: NatsServerHandle;
const cleanups: (() => Promise<void>)[] = [];

async function fakeRouter(name: string, script: (x: Exchange) => void | Promise<void>): Promise<FakeRouter> {
  const nc = await connect({ servers: server.url, name });
  const received: Received[] = [];
  const cancels: string[] = [];
  const waiting = new Map<string, () => void>();
  nc.subscribe('sy.cancel.>', {
    callback: (_err, msg) => {
      const id = msg.subject.slice('sy.cancel.'.length);
      cancels.push(id);
      waiting.get(id)?.();
    },
  });
  let requests: Subscription | undefined;
  requests = nc.subscribe(requestWildcard(), {
    queue: ROUTER_QUEUE,
    callback: (_err, msg: Msg) => {
      const headers = Object.fromEntries([...(msg.headers ?? [])].map(([k, v]) => [k, v.join(',')]));
      const requestId = headers[Header.RequestId] ?? '';
      received.push({ subject: msg.subject, requestId, headers, body: msg.json() });
      let seq = 0;
      const reply = msg.reply ?? '';
      const cancelled = new Promise<void>((resolve) => waiting.set(requestId, resolve));
      void script({
        requestId,
        send: (body) => nc.publish(reply, JSON.stringify({ ...body, seq: seq++, node: name })),
        raw: (data) => nc.publish(reply, data),
        die: () => {
          requests?.unsubscribe();
          requests = undefined;
        },
        cancelled,
      });
    },
  });
  // The server must know the subscriptions before a client publishes, or it answers "no responders".
  await nc.flush();
  const router = { name, received, cancels, stop: () => nc.close() };
  cleanups.push(router.stop);
  return router;
}

/** A client on its own connection, closed after the test. */
async function client(defaults: Parameters<typeof createClient>[1] = {}): Promise<SwitchyardClient> {
  const c = await createClient({ servers: server.url, name: 'client-test' }, { useCase: 'chat', idleTimeoutMs: IDLE_MS, ...defaults });
  cleanups.push(() => c.close());
  return c;
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a failure'),
    (err: unknown) => err,
  );
}

async function collect(stream: AsyncIterable<StreamEvent>, events: StreamEvent[] = []): Promise<StreamEvent[]> {
  for await (const event of stream) events.push(event);
  return events;
}

const EVENTS: ReplyEvent[] = [
  { type: 'start', id: 'msg_1', model: 'claude-sonnet-4-20250514' },
  { type: 'delta', index: 0, delta: { type: 'text', text: 'Hi' } },
  { type: 'delta', index: 0, delta: { type: 'text', text: ' there' } },
  { type: 'usage', usage: { inputTokens: 3, outputTokens: 2 } },
  { type: 'end', stopReason: 'end_turn' },
];

/** A node still working: keepalives until the client cancels. */
async function keepAliveUntilCancelled(x: Exchange, everyMs = 100): Promise<void> {
  let cancelled = false;
  void x.cancelled.then(() => (cancelled = true));
  while (!cancelled) {
    await sleep(everyMs);
    if (!cancelled) x.send({ kind: 'keepalive' });
  }
}

beforeAll(async () => {
  server = await startNatsServer();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await server.stop();
});

describe('complete', () => {
  it('sends the canonical request with its headers and returns the result with servedBy', async () => {
    const router = await fakeRouter('node-a', async (x) => {
      x.send({ kind: 'accepted', requestId: x.requestId });
      await sleep(20);
      x.send({ kind: 'keepalive' });
      x.send({ kind: 'result', response: RESPONSE, servedBy: SERVED_BY });
    });
    const c = await client({ tenant: 'acme' });
    const answer = await c.complete(REQUEST, { priority: 'high', requestId: 'req-1' });
    expect(answer).toEqual({ response: RESPONSE, servedBy: SERVED_BY, requestId: 'req-1' });
    expect(router.received).toHaveLength(1);
    expect(router.received[0]).toMatchObject({ subject: 'sy.req.chat', requestId: 'req-1', body: REQUEST });
    expect(router.received[0]?.headers).toEqual({ [Header.RequestId]: 'req-1', [Header.Tenant]: 'acme', [Header.Priority]: 'high' });
    expect(router.cancels).toEqual([]);
  });

  it('refuses an invalid request or use case with invalid_request naming the field, sending nothing', async () => {
    const router = await fakeRouter('node-a', () => expect.fail('nothing should be sent'));
    const c = await client();
    const noMessages = await failure(c.complete({ ...REQUEST, messages: [] }));
    expect(noMessages).toBeInstanceOf(ClientError);
    expect(noMessages).toMatchObject({ code: 'invalid_request', field: 'request.messages' });
    expect(await failure(c.complete(REQUEST, { useCase: 'Chat.Bad' }))).toMatchObject({ code: 'invalid_request', field: 'useCase' });
    expect(await failure(c.complete(REQUEST, { requestId: 'has space' }))).toMatchObject({ code: 'invalid_request', field: 'requestId' });
    expect(router.received).toEqual([]);
  });
});

describe('stream', () => {
  it('yields the events in order and reports servedBy from the end event', async () => {
    const router = await fakeRouter('node-a', (x) => {
      x.send({ kind: 'accepted', requestId: x.requestId });
      for (const event of EVENTS) x.send({ kind: 'event', event, ...(event.type === 'end' ? { servedBy: SERVED_BY } : {}) });
    });
    const c = await client();
    const stream = c.stream(REQUEST, { requestId: 'req-s' });
    expect(await collect(stream)).toEqual(EVENTS);
    expect(await stream.result).toEqual({ servedBy: SERVED_BY, requestId: 'req-s' });
    expect(router.received[0]?.headers[Header.Stream]).toBe('1');
  });
});

describe('typed errors', () => {
  it('maps an error reply to RequestFailedError with its code, and a node-refused field to ClientError', async () => {
    await fakeRouter('node-a', (x) => {
      if (x.requestId === 'bad-field') {
        x.send({ kind: 'error', error: { code: 'invalid_request', message: 'messages.0: too short', retryable: false, field: 'messages.0' } });
        return;
      }
      x.send({ kind: 'accepted', requestId: x.requestId });
      x.send({ kind: 'error', error: { code: 'all_deployments_failed', message: 'every deployment failed', retryable: true, retryAfterMs: 500 } });
    });
    const c = await client();
    const err = await failure(c.complete(REQUEST));
    expect(err).toBeInstanceOf(RequestFailedError);
    expect(err).toMatchObject({ code: 'all_deployments_failed', retryable: true, retryAfterMs: 500, message: 'every deployment failed' });
    const refused = await failure(c.complete(REQUEST, { requestId: 'bad-field' }));
    expect(refused).toBeInstanceOf(ClientError);
    expect(refused).toMatchObject({ code: 'invalid_request', field: 'messages.0' });
  });

  it('throws a failure mid-stream from the stream iterator with what was delivered', async () => {
    await fakeRouter('node-a', (x) => {
      x.send({ kind: 'accepted', requestId: x.requestId });
      x.send({ kind: 'event', event: EVENTS[0]! });
      x.send({ kind: 'event', event: EVENTS[1]! });
      x.send({ kind: 'error', error: { code: 'stream_interrupted', message: 'vendor stream broke', retryable: true } });
    });
    const c = await client();
    const stream = c.stream(REQUEST);
    const events: StreamEvent[] = [];
    const err = await failure(collect(stream, events));
    expect(err).toBeInstanceOf(RequestFailedError);
    expect(err).toMatchObject({ code: 'stream_interrupted', delivered: 'Hi' });
    expect(events).toEqual(EVENTS.slice(0, 2));
    await expect(stream.result).rejects.toBe(err);
  });

  it('fails with router_unavailable at once when no router node listens (NATS no responders)', async () => {
    const c = await client({ idleTimeoutMs: 5_000 });
    const started = performance.now();
    const err = await failure(c.complete(REQUEST, { useCase: 'nobody_home' }));
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'router_unavailable' });
    expect((err as ClientError).message).toContain('sy.req.nobody_home');
    expect((err as ClientError).hint).toMatch(/switchyard start.*switchyard dev/);
    expect(elapsed).toBeLessThan(2_500);
    const streamErr = await failure(collect(c.stream(REQUEST, { useCase: 'nobody_home' })));
    expect(streamErr).toMatchObject({ code: 'router_unavailable' });
  });

  it('fails with router_protocol on a malformed reply, and cancels the request', async () => {
    const router = await fakeRouter('node-a', (x) => {
      x.send({ kind: 'accepted', requestId: x.requestId });
      if (x.requestId === 'not-json') x.raw('{oops');
      else x.raw(JSON.stringify({ seq: 1, node: 'node-a', kind: 'result', servedBy: SERVED_BY }));
    });
    const c = await client();
    const missing = await failure(c.complete(REQUEST, { requestId: 'no-response' }));
    expect(missing).toBeInstanceOf(ClientError);
    expect(missing).toMatchObject({ code: 'router_protocol' });
    expect((missing as ClientError).message).toMatch(/malformed reply \(response:/);
    expect(await failure(c.complete(REQUEST, { requestId: 'not-json' }))).toMatchObject({ code: 'router_protocol', message: expect.stringMatching(/not JSON/) });
    await waitFor(() => router.cancels.includes('no-response') && router.cancels.includes('not-json'), 'the cancels');
  });

  it('fails with router_protocol on a gap in the reply sequence', async () => {
    await fakeRouter('node-a', (x) => {
      x.send({ kind: 'accepted', requestId: x.requestId });
      x.raw(JSON.stringify({ seq: 2, node: 'node-a', kind: 'result', response: RESPONSE, servedBy: SERVED_BY }));
    });
    const c = await client();
    const err = await failure(c.complete(REQUEST));
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'router_protocol', message: expect.stringMatching(/reply 2 where 1 was next/) });
  });
});

describe('a silent node', () => {
  it('retries once on another node when nothing was delivered, and cancels the first', async () => {
    // Whichever node the queue group picks first freezes after accepting; the other must serve the retry.
    let frozen: string | undefined;
    const script = (name: string) => (x: Exchange) => {
      x.send({ kind: 'accepted', requestId: x.requestId });
      if (frozen === undefined) {
        frozen = name;
        x.die();
        return;
      }
      x.send({ kind: 'result', response: RESPONSE, servedBy: { ...SERVED_BY, deployment: name } });
    };
    const a = await fakeRouter('node-a', script('node-a'));
    const b = await fakeRouter('node-b', script('node-b'));
    const c = await client();
    const started = performance.now();
    const answer = await c.complete(REQUEST, { requestId: 'req-r', deadlineMs: 10_000 });
    const elapsed = performance.now() - started;
    const [silent, serving] = frozen === 'node-a' ? [a, b] : [b, a];
    expect(silent.received.map((r) => r.requestId)).toEqual(['req-r']);
    expect(serving.received.map((r) => r.requestId)).toEqual(['req-r-r1']);
    expect(answer).toMatchObject({ requestId: 'req-r-r1', servedBy: { deployment: serving.name } });
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS - 20);
    // The retry carries only the deadline that is left.
    expect(Number(serving.received[0]?.headers[Header.DeadlineMs])).toBeLessThanOrEqual(10_000 - IDLE_MS + 20);
    await waitFor(() => silent.cancels.includes('req-r'), 'the cancel of the first attempt');
  });

  it('retries a stream that went silent after its start (no delta yet) and yields one start', async () => {
    let frozen = false;
    const script = (x: Exchange) => {
      x.send({ kind: 'accepted', requestId: x.requestId });
      x.send({ kind: 'event', event: EVENTS[0]! });
      if (!frozen) {
        frozen = true;
        x.die();
        return;
      }
      for (const event of EVENTS.slice(1)) x.send({ kind: 'event', event, ...(event.type === 'end' ? { servedBy: SERVED_BY } : {}) });
    };
    const a = await fakeRouter('node-a', script);
    const b = await fakeRouter('node-b', script);
    const c = await client();
    const stream = c.stream(REQUEST, { requestId: 'req-sr' });
    expect(await collect(stream)).toEqual(EVENTS);
    expect(await stream.result).toMatchObject({ requestId: 'req-sr-r1' });
    expect([...a.received, ...b.received].map((r) => r.requestId).sort()).toEqual(['req-sr', 'req-sr-r1']);
    expect(a.received).toHaveLength(1);
  });

  it('fails with router_timeout when the retry goes silent too', async () => {
    const router = await fakeRouter('node-a', (x) => x.send({ kind: 'accepted', requestId: x.requestId }));
    const c = await client();
    const err = await failure(c.complete(REQUEST, { requestId: 'req-t' }));
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'router_timeout', delivered: undefined });
    expect(router.received.map((r) => r.requestId)).toEqual(['req-t', 'req-t-r1']);
  });

  it('fails with router_timeout, without a retry, when it goes silent after delivery began', async () => {
    const router = await fakeRouter('node-a', (x) => {
      x.send({ kind: 'accepted', requestId: x.requestId });
      x.send({ kind: 'event', event: EVENTS[0]! });
      x.send({ kind: 'event', event: EVENTS[1]! });
    });
    const c = await client();
    const stream = c.stream(REQUEST, { requestId: 'req-d' });
    const events: StreamEvent[] = [];
    const started = performance.now();
    const err = await failure(collect(stream, events));
    expect(performance.now() - started).toBeLessThan(IDLE_MS + 1_000);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'router_timeout', delivered: 'Hi' });
    expect(events).toEqual(EVENTS.slice(0, 2));
    expect(router.received.map((r) => r.requestId)).toEqual(['req-d']);
    await waitFor(() => router.cancels.includes('req-d'), 'the cancel');
  });

  it('keeps waiting while keepalives arrive, longer than the idle timeout', async () => {
    await fakeRouter('node-a', async (x) => {
      x.send({ kind: 'accepted', requestId: x.requestId });
      for (let i = 0; i < 6; i++) {
        await sleep(IDLE_MS / 2);
        x.send({ kind: 'keepalive' });
      }
      x.send({ kind: 'result', response: RESPONSE, servedBy: SERVED_BY });
    });
    const c = await client();
    expect((await c.complete(REQUEST)).response).toEqual(RESPONSE);
  });
});

describe('cancellation and deadline', () => {
  it('aborting mid-stream cancels on the bus and throws cancelled', async () => {
    const router = await fakeRouter('node-a', async (x) => {
      x.send({ kind: 'accepted', requestId: x.requestId });
      x.send({ kind: 'event', event: EVENTS[0]! });
      x.send({ kind: 'event', event: EVENTS[1]! });
      await keepAliveUntilCancelled(x);
    });
    const c = await client();
    const controller = new AbortController();
    const stream = c.stream(REQUEST, { requestId: 'req-a', signal: controller.signal });
    const events: StreamEvent[] = [];
    const err = await failure(
      (async () => {
        for await (const event of stream) {
          events.push(event);
          if (event.type === 'delta') controller.abort();
        }
      })(),
    );
    expect(err).toBeInstanceOf(RequestFailedError);
    expect(err).toMatchObject({ code: 'cancelled', delivered: 'Hi' });
    expect(events).toEqual(EVENTS.slice(0, 2));
    await waitFor(() => router.cancels.includes('req-a'), 'the cancel');
    expect(router.cancels).toEqual(['req-a']);
  });

  it('breaking out of the loop cancels the request', async () => {
    const router = await fakeRouter('node-a', async (x) => {
      x.send({ kind: 'accepted', requestId: x.requestId });
      x.send({ kind: 'event', event: EVENTS[0]! });
      await keepAliveUntilCancelled(x);
    });
    const c = await client();
    const stream = c.stream(REQUEST, { requestId: 'req-b' });
    for await (const event of stream) if (event.type === 'start') break;
    await waitFor(() => router.cancels.includes('req-b'), 'the cancel');
    await expect(stream.result).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('an abort rejects complete() at once, and an aborted signal sends nothing', async () => {
    const router = await fakeRouter('node-a', async (x) => {
      x.send({ kind: 'accepted', requestId: x.requestId });
      await keepAliveUntilCancelled(x);
    });
    const c = await client();
    const controller = new AbortController();
    const pending = c.complete(REQUEST, { requestId: 'req-c', signal: controller.signal });
    await waitFor(() => router.received.length === 1, 'the request');
    controller.abort();
    expect(await failure(pending)).toMatchObject({ code: 'cancelled' });
    await waitFor(() => router.cancels.includes('req-c'), 'the cancel');
    expect(await failure(c.complete(REQUEST, { signal: AbortSignal.abort() }))).toMatchObject({ code: 'cancelled' });
    expect(router.received).toHaveLength(1);
  });

  it('sends the deadline and gives up at it with deadline_exceeded, though keepalives continue', async () => {
    const router = await fakeRouter('node-a', async (x) => {
      x.send({ kind: 'accepted', requestId: x.requestId });
      await keepAliveUntilCancelled(x);
    });
    const c = await client({ idleTimeoutMs: 5_000 });
    const started = performance.now();
    const err = await failure(c.complete(REQUEST, { requestId: 'req-dl', deadlineMs: 300 }));
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(RequestFailedError);
    expect(err).toMatchObject({ code: 'deadline_exceeded' });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(4_000);
    // The header carries what is left of the deadline when the request goes out: 300 ms, or a tick less.
    const sent = Number(router.received[0]?.headers[Header.DeadlineMs]);
    expect(sent).toBeLessThanOrEqual(300);
    expect(sent).toBeGreaterThanOrEqual(290);
    await waitFor(() => router.cancels.includes('req-dl'), 'the cancel');
  });
});

describe('connections', () => {
  it('close() leaves a connection it was given open, and refuses requests after', async () => {
    await fakeRouter('node-a', (x) => x.send({ kind: 'result', response: RESPONSE, servedBy: SERVED_BY }));
    const nc: NatsConnection = await connect({ servers: server.url });
    cleanups.push(() => nc.close());
    const c = await createClient({ connection: nc }, { useCase: 'chat' });
    await c.complete(REQUEST);
    await c.close();
    expect(nc.isClosed()).toBe(false);
    expect(await failure(c.complete(REQUEST))).toMatchObject({ code: 'router_unavailable' });
  });
});
