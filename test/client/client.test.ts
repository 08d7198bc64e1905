/**
 * The client library against a real nats-server and a FAKE router node written here: a real NATS
 * subscriber in the `sy-routers` queue group on `sy.req.*` that answers by the request protocol
 * (src/transport/protocol.ts) as each test scripts it, and records what it received, including
 * cancels on `sy.cancel.>`. This tests the client alone; the real node has its own tests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, createClient, type SwitchyardClient } from '../../src/client/index.js';
import { RequestFailedError, type CanonicalRequest, type CanonicalResponse, type StreamEvent } from '../../src/domain/index.js';
import { Header, ReplyLog, ROUTER_QUEUE, requestWildcard, type DataBody, type ReplyEvent } from '../../src/transport/index.js';
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
  /** The reply subject the request named. */
  inbox: string;
  /** Sends the next data message through a real ReplyLog, as a node does. */
  send(body: DataBody): void;
  /** Numbers and keeps the message but never publishes it: lost on the way, replayable. */
  lose(body: DataBody): void;
  keepalive(): void;
  /** Bytes as they are: malformed replies, foreign ids. */
  raw(data: string): void;
  /** Stops taking requests and answers nothing more, as a node that froze: the queue group sends new ones elsewhere. */
  die(): void;
  /** Answers nothing more for this request, replays included: a frozen node. */
  freeze(): void;
  /** Resolves when the client cancels this request with its token. */
  cancelled: Promise<void>;
}

interface FakeRouter {
  name: string;
  received: Received[];
  /** Cancels that carried the request's caller token. */
  cancels: string[];
  replays: { requestId: string; from: number }[];
  stop(): Promise<void>;
}

let server: NatsServerHandle;
const cleanups: (() => Promise<void>)[] = [];

async function fakeRouter(name: string, script: (x: Exchange) => void | Promise<void>): Promise<FakeRouter> {
  const nc = await connect({ servers: server.url, name });
  const received: Received[] = [];
  const cancels: string[] = [];
  const replays: { requestId: string; from: number }[] = [];
  const held = new Map<string, { token: string; log: ReplyLog; frozen: boolean; onCancel: () => void }>();
  const control = (kind: 'cancel' | 'replay') => (_err: Error | null, msg: Msg) => {
    const requestId = msg.subject.split('.')[2] ?? '';
    const entry = held.get(requestId);
    const body = msg.json<{ token: string; from?: number }>();
    if (!entry || body.token !== entry.token) return;
    if (kind === 'cancel') {
      cancels.push(requestId);
      entry.onCancel();
    } else {
      replays.push({ requestId, from: body.from ?? 0 });
      if (!entry.frozen) entry.log.replay(body.from ?? 0);
    }
  };
  nc.subscribe('sy.cancel.*', { callback: control('cancel') });
  nc.subscribe('sy.replay.*', { callback: control('replay') });
  let requests: Subscription | undefined;
  requests = nc.subscribe(requestWildcard(), {
    queue: ROUTER_QUEUE,
    callback: (_err, msg: Msg) => {
      const headers = Object.fromEntries([...(msg.headers ?? [])].map(([k, v]) => [k, v.join(',')]));
      const requestId = headers[Header.RequestId] ?? '';
      received.push({ subject: msg.subject, requestId, headers, body: msg.json() });
      const reply = msg.reply ?? '';
      let losing = false;
      const log = new ReplyLog(requestId, name, reply, (subject, data) => {
        if (!losing && !entry.frozen) nc.publish(subject, data);
      });
      let onCancel = (): void => undefined;
      const cancelled = new Promise<void>((resolve) => (onCancel = resolve));
      const entry = { token: headers[Header.CallerToken] ?? '', log, frozen: false, onCancel: () => onCancel() };
      held.set(requestId, entry);
      void script({
        requestId,
        inbox: reply,
        send: (body) => log.send(body),
        lose: (body) => {
          losing = true;
          log.send(body);
          losing = false;
        },
        keepalive: () => log.keepalive(),
        raw: (data) => nc.publish(reply, data),
        die: () => {
          requests?.unsubscribe();
          requests = undefined;
          entry.frozen = true;
        },
        freeze: () => (entry.frozen = true),
        cancelled,
      });
    },
  });
  // The server must know the subscriptions before a client publishes, or it answers "no responders".
  await nc.flush();
  const router = { name, received, cancels, replays, stop: () => nc.close() };
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
const eventBody = (event: ReplyEvent): DataBody => ({ kind: 'event', event, ...(event.type === 'end' ? { servedBy: SERVED_BY } : {}) });

/** A node still working: keepalives until the client cancels. */
async function keepAliveUntilCancelled(x: Exchange, everyMs = 100): Promise<void> {
  let cancelled = false;
  void x.cancelled.then(() => (cancelled = true));
  while (!cancelled) {
    await sleep(everyMs);
    if (!cancelled) x.keepalive();
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
      x.send({ kind: 'accepted' });
      await sleep(20);
      x.keepalive();
      x.send({ kind: 'result', response: RESPONSE, servedBy: SERVED_BY });
    });
    const c = await client({ tenant: 'acme' });
    const answer = await c.complete(REQUEST, { priority: 'high', requestId: 'req-1' });
    expect(answer).toEqual({ response: RESPONSE, servedBy: SERVED_BY, requestId: 'req-1' });
    expect(router.received).toHaveLength(1);
    expect(router.received[0]).toMatchObject({ subject: 'sy.req.chat', requestId: 'req-1', body: REQUEST });
    const { [Header.CallerToken]: token, ...rest } = router.received[0]?.headers ?? {};
    expect(rest).toEqual({ [Header.RequestId]: 'req-1', [Header.Tenant]: 'acme', [Header.Priority]: 'high' });
    // 144 random bits, base64url: the secret that makes cancels and replays this caller's alone.
    expect(token).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(router.cancels).toEqual([]);
  });

  it('takes a plain string as message content, as the vendor SDKs do, and defaults the use case to otherwise', async () => {
    const router = await fakeRouter('node-a', (x) => {
      x.send({ kind: 'accepted' });
      x.send({ kind: 'result', response: RESPONSE, servedBy: SERVED_BY });
    });
    const c = await client({ useCase: undefined });
    await c.complete({ model: 'claude-sonnet-4', maxTokens: 10, messages: [{ role: 'user', content: 'Hello' }] });
    expect(router.received).toHaveLength(1);
    expect(router.received[0]).toMatchObject({ subject: 'sy.req.otherwise', body: { messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }] } });
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
      x.send({ kind: 'accepted' });
      for (const event of EVENTS) x.send(eventBody(event));
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
      x.send({ kind: 'accepted' });
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
      x.send({ kind: 'accepted' });
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
      x.send({ kind: 'accepted' });
      if (x.requestId === 'not-json') x.raw('{oops');
      else x.raw(JSON.stringify({ id: x.requestId, seq: 1, node: 'node-a', kind: 'result', servedBy: SERVED_BY }));
    });
    const c = await client();
    const missing = await failure(c.complete(REQUEST, { requestId: 'no-response' }));
    expect(missing).toBeInstanceOf(ClientError);
    expect(missing).toMatchObject({ code: 'router_protocol' });
    expect((missing as ClientError).message).toMatch(/malformed reply \(response:/);
    expect(await failure(c.complete(REQUEST, { requestId: 'not-json' }))).toMatchObject({ code: 'router_protocol', message: expect.stringMatching(/not JSON/) });
    await waitFor(() => router.cancels.includes('no-response') && router.cancels.includes('not-json'), 'the cancels');
  });

  it('ignores replies that name another request, however they reached its inbox', async () => {
    const rogue = await connect({ servers: server.url });
    cleanups.push(() => rogue.close());
    await fakeRouter('node-a', async (x) => {
      x.send({ kind: 'accepted' });
      // A forged reply subject made a node answer someone else's request into this caller's inbox.
      rogue.publish(x.inbox, JSON.stringify({ id: 'someone-else', node: 'node-a', seq: 1, kind: 'error', error: { code: 'router_protocol', message: 'x', retryable: false } }));
      rogue.publish(x.inbox, JSON.stringify({ id: 'someone-else', node: 'node-b', kind: 'declined', reason: 'x' }));
      await rogue.flush();
      await sleep(20);
      x.send({ kind: 'result', response: RESPONSE, servedBy: SERVED_BY });
    });
    const c = await client();
    expect((await c.complete(REQUEST, { requestId: 'victim' })).response).toEqual(RESPONSE);
  });
});

describe('lost replies', () => {
  it('asks for replies lost on the way and gets each once, in order', async () => {
    const router = await fakeRouter('node-a', async (x) => {
      x.send({ kind: 'accepted' });
      x.send(eventBody(EVENTS[0]!));
      x.lose(eventBody(EVENTS[1]!));
      x.lose(eventBody(EVENTS[2]!));
      x.send(eventBody(EVENTS[3]!));
      await sleep(50);
      x.send(eventBody(EVENTS[4]!));
    });
    const c = await client();
    expect(await collect(c.stream(REQUEST, { requestId: 'gap' }))).toEqual(EVENTS);
    expect(router.replays[0]).toEqual({ requestId: 'gap', from: 2 });
  });

  it('learns of a lost last reply from the keepalive that follows it', async () => {
    const router = await fakeRouter('node-a', async (x) => {
      x.send({ kind: 'accepted' });
      x.lose({ kind: 'result', response: RESPONSE, servedBy: SERVED_BY });
      await sleep(30);
      x.keepalive();
    });
    const c = await client({ idleTimeoutMs: 5_000 });
    expect((await c.complete(REQUEST, { requestId: 'tail' })).response).toEqual(RESPONSE);
    expect(router.replays).toEqual([{ requestId: 'tail', from: 1 }]);
  });
});

describe('a silent node', () => {
  it('retries once on another node when nothing was delivered, and cancels the first', async () => {
    // Whichever node the queue group picks first freezes after accepting; the other must serve the retry.
    let frozen: string | undefined;
    const script = (name: string) => (x: Exchange) => {
      x.send({ kind: 'accepted' });
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
    // The retry carries only the deadline that is left, and asks to avoid the node that went silent.
    expect(Number(serving.received[0]?.headers[Header.DeadlineMs])).toBeLessThanOrEqual(10_000 - IDLE_MS + 20);
    expect(serving.received[0]?.headers[Header.AvoidNodes]).toBe(silent.name);
    await waitFor(() => silent.cancels.includes('req-r'), 'the cancel of the first attempt');
  });

  it('retries a stream that went silent after its start (no delta yet) and yields one start', async () => {
    let frozen = false;
    const script = (x: Exchange) => {
      x.send({ kind: 'accepted' });
      x.send({ kind: 'event', event: EVENTS[0]! });
      if (!frozen) {
        frozen = true;
        x.die();
        return;
      }
      for (const event of EVENTS.slice(1)) x.send(eventBody(event));
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
    const router = await fakeRouter('node-a', (x) => {
      x.send({ kind: 'accepted' });
      x.freeze();
    });
    const c = await client();
    const err = await failure(c.complete(REQUEST, { requestId: 'req-t' }));
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'router_timeout', delivered: undefined });
    expect(router.received.map((r) => r.requestId)).toEqual(['req-t', 'req-t-r1']);
  });

  it('fails with router_timeout, without a retry, when it goes silent after delivery began', async () => {
    const router = await fakeRouter('node-a', (x) => {
      x.send({ kind: 'accepted' });
      x.send({ kind: 'event', event: EVENTS[0]! });
      x.send({ kind: 'event', event: EVENTS[1]! });
      x.freeze();
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
      x.send({ kind: 'accepted' });
      for (let i = 0; i < 6; i++) {
        await sleep(IDLE_MS / 2);
        x.keepalive();
      }
      x.send({ kind: 'result', response: RESPONSE, servedBy: SERVED_BY });
    });
    const c = await client();
    expect((await c.complete(REQUEST)).response).toEqual(RESPONSE);
  });
});

describe('a node that never answers', () => {
  it('sends the request again when no node acknowledges it in time, and cancels the send nobody answered', async () => {
    // node-a is in the queue group but frozen from the start: it takes requests and says nothing.
    const a = await fakeRouter('node-a', (x) => x.freeze());
    await fakeRouter('node-b', (x) => {
      x.send({ kind: 'accepted' });
      x.send({ kind: 'result', response: RESPONSE, servedBy: { ...SERVED_BY, deployment: 'node-b' } });
    });
    const c = await client({ ackTimeoutMs: 50, idleTimeoutMs: 5_000 });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => c.complete(REQUEST, { requestId: `ack-${i}` })));
    expect(answers.every((r) => r.servedBy.deployment === 'node-b')).toBe(true);
    // The queue group spreads twelve requests over both nodes: some first landed on the frozen one.
    expect(a.received.length).toBeGreaterThan(0);
    await waitFor(() => a.received.every((r) => a.cancels.includes(r.requestId)), 'a cancel for every send the frozen node took');
  });

  it('fails with router_timeout when no node acknowledges within the idle timeout', async () => {
    const a = await fakeRouter('node-a', (x) => x.freeze());
    const c = await client({ ackTimeoutMs: 60 });
    const err = await failure(c.complete(REQUEST, { requestId: 'nobody' }));
    expect(err).toMatchObject({ code: 'router_timeout', message: expect.stringMatching(/no router node took request nobody within 400 ms/) });
    expect(a.received.length).toBeGreaterThanOrEqual(3);
    expect(a.received.map((r) => r.requestId).slice(0, 3)).toEqual(['nobody', 'nobody-r1', 'nobody-r2']);
  });

  it('a node asked to avoid itself declines, the request goes out again at once, and in the end even it may serve', async () => {
    // The only node freezes on the first request, then comes back: the client's resends name it, so it declines them.
    let froze = false;
    const router = await fakeRouter('node-a', (x) => {
      const named = router.received.at(-1)?.headers[Header.AvoidNodes] === 'node-a';
      if (!froze) {
        froze = true;
        x.send({ kind: 'accepted' });
        x.freeze();
      } else if (named) x.raw(JSON.stringify({ id: x.requestId, node: 'node-a', kind: 'declined', reason: 'avoided' }));
      else {
        x.send({ kind: 'accepted' });
        x.send({ kind: 'result', response: RESPONSE, servedBy: SERVED_BY });
      }
    });
    const c = await client();
    const answer = await c.complete(REQUEST, { requestId: 'first' });
    expect(answer.requestId).toBe('first-r4');
    expect(router.received.map((r) => [r.requestId, r.headers[Header.AvoidNodes]])).toEqual([
      ['first', undefined],
      ['first-r1', 'node-a'],
      ['first-r2', 'node-a'],
      ['first-r3', 'node-a'],
      // A served request beats a perfect one: after three declines the client stops avoiding.
      ['first-r4', undefined],
    ]);
  });
});

describe('cancellation and deadline', () => {
  it('aborting mid-stream cancels on the bus and throws cancelled', async () => {
    const router = await fakeRouter('node-a', async (x) => {
      x.send({ kind: 'accepted' });
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
      x.send({ kind: 'accepted' });
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
      x.send({ kind: 'accepted' });
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
      x.send({ kind: 'accepted' });
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
