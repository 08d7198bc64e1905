// The NATS permissions of docs/deployment.md, proven against a real nats-server: each identity
// (router nodes, the flagship app, a batch job, an operator, the simulator) connects with its own
// NKey, and real publishes and subscriptions show what the server lets through and what it stops.
//
// Proving that a message did NOT arrive: the sender flushes (the server has then routed, or
// refused, everything it sent), then an allowed control message is sent to the same receiver and
// awaited; anything the forbidden publish had produced would have been delivered before it.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientError, createClient } from '../../src/client/index.js';
import {
  connect,
  createInbox,
  nkeyAuthenticator,
  nkeys,
  PermissionViolationError,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, natsFromEnvironment } from '../../src/transport/connect.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';

const FIXTURE = new URL('../fixtures/nats/switchyard-permissions.conf', import.meta.url);
const DEPLOYMENT_DOC = new URL('../../docs/deployment.md', import.meta.url);

const ROLES = ['ROUTER_1', 'ROUTER_2', 'CONVERSATION_SERVING', 'BATCH', 'OPERATOR', 'SIMULATOR'] as const;
type Role = (typeof ROLES)[number];
interface Identity {
  publicKey: string;
  seed: string;
}

const WAIT_MS = 5_000;

function newIdentities(): Record<Role, Identity> {
  const entries = ROLES.map((role) => {
    const kp = nkeys.createUser();
    return [role, { publicKey: kp.getPublicKey(), seed: new TextDecoder().decode(kp.getSeed()) }] as const;
  });
  return Object.fromEntries(entries) as Record<Role, Identity>;
}

/** The permission file, with the public keys it expects defined ahead of it (as the doc's main config does). */
function serverConfig(permissions: string, ids: Record<Role, Identity>): string {
  const keys = ROLES.map((role) => `${role}_NKEY = "${ids[role].publicKey}"`).join('\n');
  return `${keys}\n${permissions}`;
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Every error the server reported to this connection (permission violations arrive as -ERR, not as exceptions). */
function collectErrors(nc: NatsConnection): Error[] {
  const errors: Error[] = [];
  void (async () => {
    for await (const status of nc.status()) if (status.type === 'error') errors.push(status.error);
  })();
  return errors;
}

/** A permission violation for this operation and subject; request() wraps it in a RequestError's cause. */
function isViolation(err: unknown, operation: 'publish' | 'subscription', subject: string): boolean {
  const violation = err instanceof PermissionViolationError ? err : err instanceof Error ? err.cause : undefined;
  return violation instanceof PermissionViolationError && violation.operation === operation && violation.subject === subject;
}

/**
 * Subscribes and reports how the server took it. The server answers a refused SUB with -ERR
 * before the PONG of the flush that follows, so once flush() resolves a refused subscription is
 * already closed; an allowed one is still open and this returns undefined instead of hanging.
 */
async function subscriptionRefusal(nc: NatsConnection, subscribe: () => Subscription): Promise<unknown> {
  const sub = subscribe();
  await nc.flush();
  if (!sub.isClosed()) {
    sub.unsubscribe();
    return undefined;
  }
  return sub.closed;
}

let seq = 0;
/** A marker unique to one step of one test, so tests sharing the routers' logs never see each other. */
const mark = (what: string): string => `${what}-${++seq}-${Date.now().toString(36)}`;

interface Seen {
  node: string;
  subject: string;
  body: string;
  queue: boolean;
}

/** A stand-in router node: the subscriptions a real one makes, answering and logging what reaches it. */
function actAsRouter(nc: NatsConnection, node: string, log: Seen[]): Subscription[] {
  const record = (msg: Msg, queue = false): void => void log.push({ node, subject: msg.subject, body: msg.string(), queue });
  const answer = (msg: Msg, queue: boolean): void => {
    record(msg, queue);
    // A body "stream:N:<id>" asks for N ordered events on the one reply subject, as a streamed answer does.
    const stream = /^stream:(\d+):/.exec(msg.string());
    const events = stream ? Number(stream[1]) : 1;
    for (let i = 0; i < events; i++) msg.respond(JSON.stringify({ node, subject: msg.subject, body: msg.string(), seq: i }));
  };
  return [
    nc.subscribe('sy.req.*', { queue: 'sy-routers', callback: (_err, msg) => answer(msg, true) }),
    // Requests addressed to this node by name (a peer's hand-back), outside the group.
    nc.subscribe(`sy.req.*.${node}`, { callback: (_err, msg) => answer(msg, false) }),
    nc.subscribe('sy.cancel.>', { callback: (_err, msg) => record(msg) }),
    nc.subscribe('sy.replay.>', { callback: (_err, msg) => record(msg) }),
    nc.subscribe('sy.state.>', { callback: (_err, msg) => record(msg) }),
    nc.subscribe('sy.node.>', { callback: (_err, msg) => record(msg) }),
    nc.subscribe('sy.alert.>', { callback: (_err, msg) => record(msg) }),
    nc.subscribe('sy.events.>', { callback: (_err, msg) => record(msg) }),
    nc.subscribe('sy.admin.>', {
      callback: (_err, msg) => {
        record(msg);
        if (msg.reply) msg.respond(JSON.stringify({ node, subject: msg.subject, state: 'ready' }));
      },
    }),
    nc.subscribe('$SRV.>', {
      callback: (_err, msg) => {
        record(msg);
        if (msg.reply) msg.respond(JSON.stringify({ type: 'io.nats.micro.v1.ping_response', name: 'switchyard', id: node }));
      },
    }),
  ];
}

describe('NATS permissions from docs/deployment.md', () => {
  let server: NatsServerHandle;
  let ids: Record<Role, Identity>;
  const conns: NatsConnection[] = [];
  let router1: NatsConnection;
  let router2: NatsConnection;
  let flagship: NatsConnection;
  let batch: NatsConnection;
  let operator: NatsConnection;
  let simulator: NatsConnection;
  const errorsOf = new Map<NatsConnection, Error[]>();
  const routerLog: Seen[] = [];
  const simulatorLog: Seen[] = [];

  /** Connects as one identity the way Switchyard does: settings and seed only from the environment. */
  async function connectAs(role: Role): Promise<NatsConnection> {
    const env = { NATS_URL: server.url, NATS_NKEY_SEED: ids[role].seed };
    const settings = natsFromEnvironment(env);
    const nc = await connectNats({ servers: settings.servers ?? [], name: role.toLowerCase(), auth: settings.auth });
    conns.push(nc);
    errorsOf.set(nc, collectErrors(nc));
    return nc;
  }

  const errors = (nc: NatsConnection): Error[] => errorsOf.get(nc) ?? [];
  const logged = (log: Seen[], body: string): Seen[] => log.filter((s) => s.body === body);

  /** Both routers have received an allowed admin message sent after everything before it: the control round trip. */
  async function routersCaughtUp(): Promise<void> {
    const id = mark('control');
    operator.publish('sy.admin.control', id);
    await waitFor(() => new Set(logged(routerLog, id).map((s) => s.node)).size === 2, 'both routers to see the control message');
  }

  /**
   * A request from `app` answered by router `node`: the control round trip for messages that node
   * sent to the app earlier, since one connection's messages reach a subscriber in order. The queue
   * group picks the node, so ask until that one answers.
   */
  async function requestAnsweredBy(app: NatsConnection, subject: string, node: string): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const reply = await app.request(subject, mark('control'), { timeout: 2_000 });
      if (reply.json<{ node: string }>().node === node) return;
    }
    throw new Error(`${node} answered none of 50 requests on ${subject}`);
  }

  beforeAll(async () => {
    ids = newIdentities();
    server = await startNatsServer({ configText: serverConfig(await readFile(FIXTURE, 'utf8'), ids) });
    [router1, router2, flagship, batch, operator, simulator] = await Promise.all([
      connectAs('ROUTER_1'),
      connectAs('ROUTER_2'),
      connectAs('CONVERSATION_SERVING'),
      connectAs('BATCH'),
      connectAs('OPERATOR'),
      connectAs('SIMULATOR'),
    ]);
    actAsRouter(router1, 'router-1', routerLog);
    actAsRouter(router2, 'router-2', routerLog);
    simulator.subscribe('sy.chaos.>', {
      callback: (_err, msg) => {
        simulatorLog.push({ node: 'simulator', subject: msg.subject, body: msg.string(), queue: false });
        if (msg.reply) msg.respond(JSON.stringify({ applied: msg.subject }));
      },
    });
    await Promise.all([router1.flush(), router2.flush(), simulator.flush()]);
    // Nothing above may have been refused: the routers' and simulator's subscriptions are all allowed.
    expect([...errors(router1), ...errors(router2), ...errors(simulator)]).toEqual([]);
  });

  afterAll(async () => {
    await Promise.allSettled(conns.map((nc) => nc.close()));
    await server?.stop();
  });

  it('documents exactly the permission file tested here', async () => {
    const [doc, fixture] = await Promise.all([readFile(DEPLOYMENT_DOC, 'utf8'), readFile(FIXTURE, 'utf8')]);
    expect(doc).toContain(fixture.trim());
  });

  it('refuses a connection without credentials, and one with an unknown NKey', async () => {
    await expect(connect({ servers: server.url, reconnect: false, timeout: 2_000 })).rejects.toThrow(/authorization/i);
    const stranger = nkeys.createUser();
    await expect(
      connect({ servers: server.url, reconnect: false, timeout: 2_000, authenticator: nkeyAuthenticator(stranger.getSeed()) }),
    ).rejects.toThrow(/authorization/i);
  });

  describe('the batch job', () => {
    it("cannot publish on the flagship's request subject: the server refuses it and no router receives it", async () => {
      const id = mark('batch-as-flagship');
      // As a request: the client library sees the refusal at once instead of waiting for a timeout.
      await expect(batch.request('sy.req.conversation_serving', id, { timeout: 2_000 })).rejects.toSatisfy((err) =>
        isViolation(err, 'publish', 'sy.req.conversation_serving'),
      );
      // As a bare publish: the refusal arrives as an error status on the connection.
      const plain = mark('batch-as-flagship-publish');
      const before = errors(batch).length;
      batch.publish('sy.req.conversation_serving', plain);
      await batch.flush();
      await waitFor(
        () => errors(batch).slice(before).some((e) => isViolation(e, 'publish', 'sy.req.conversation_serving')),
        'a publish permission violation on the batch connection',
      );
      await routersCaughtUp();
      expect(logged(routerLog, id)).toEqual([]);
      expect(logged(routerLog, plain)).toEqual([]);
      // A refusal does not cost the job its connection.
      expect(batch.isClosed()).toBe(false);
    });

    it("gets not_permitted from the client library at once when it asks as the flagship's use case", async () => {
      const client = await createClient({ connection: batch }, { idleTimeoutMs: 10_000 });
      const started = performance.now();
      const error = await client
        .complete({ model: 'claude-sonnet-4', maxTokens: 8, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }, { useCase: 'conversation_serving' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClientError);
      expect(error).toMatchObject({ code: 'not_permitted', retryable: false });
      // Not the idle timeout: the refusal itself ended the request.
      expect(performance.now() - started).toBeLessThan(10_000);
      await client.close();
      expect(batch.isClosed()).toBe(false);
    });

    it('reaches a router on its own use case, sy.req.otherwise, and gets the reply', async () => {
      const id = mark('batch-otherwise');
      const reply = await batch.request('sy.req.otherwise', id, { timeout: 2_000 });
      expect(reply.json()).toMatchObject({ subject: 'sy.req.otherwise', body: id });
      const seen = logged(routerLog, id);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ subject: 'sy.req.otherwise', queue: true });
    });
  });

  describe('applications', () => {
    it('the flagship reaches a router on sy.req.conversation_serving and can cancel on sy.cancel.<id> and ask for replays on sy.replay.<id>', async () => {
      const id = mark('flagship');
      const reply = await flagship.request('sy.req.conversation_serving', id, { timeout: 2_000 });
      expect(reply.json()).toMatchObject({ subject: 'sy.req.conversation_serving', body: id });
      const requestId = mark('req');
      flagship.publish(`sy.cancel.${requestId}`, requestId);
      flagship.publish(`sy.replay.${requestId}`, requestId);
      await waitFor(() => logged(routerLog, requestId).length === 4, 'both routers to receive the cancel and the replay request');
      expect(logged(routerLog, requestId).map((s) => s.subject).sort()).toEqual([`sy.cancel.${requestId}`, `sy.cancel.${requestId}`, `sy.replay.${requestId}`, `sy.replay.${requestId}`]);
      expect(errors(flagship).filter((e) => e instanceof PermissionViolationError)).toEqual([]);
    });

    it('the flagship cannot speak as another use case either', async () => {
      await expect(flagship.request('sy.req.otherwise', mark('flagship-as-batch'), { timeout: 2_000 })).rejects.toSatisfy((err) =>
        isViolation(err, 'publish', 'sy.req.otherwise'),
      );
    });

    it('cannot publish a fake digest on sy.state.anthropic.global', async () => {
      for (const app of [flagship, batch]) {
        const id = mark('fake-digest');
        const before = errors(app).length;
        app.publish('sy.state.anthropic.global', JSON.stringify({ node: 'router-1', state: 'healthy', id }));
        await app.flush();
        await waitFor(
          () => errors(app).slice(before).some((e) => isViolation(e, 'publish', 'sy.state.anthropic.global')),
          'a publish permission violation for the fake digest',
        );
        await routersCaughtUp();
        expect(routerLog.filter((s) => s.subject === 'sy.state.anthropic.global' && s.body.includes(id))).toEqual([]);
      }
    });

    it('cannot subscribe to sy.state.>: the server refuses the subscription and delivers it no digest', async () => {
      const received: string[] = [];
      const refusal = await subscriptionRefusal(batch, () =>
        batch.subscribe('sy.state.>', {
          callback: (err, msg) => {
            if (!err) received.push(msg.string());
          },
        }),
      );
      expect(isViolation(refusal, 'subscription', 'sy.state.>')).toBe(true);

      // A real digest goes out, then that router answers the app's own request: the reply comes
      // after the digest on the router's connection, so a delivered digest would be here first.
      const digest = mark('digest');
      router1.publish('sy.state.anthropic.global', digest);
      await requestAnsweredBy(batch, 'sy.req.otherwise', 'router-1');
      expect(received).toEqual([]);

      // And on the server's side, the batch connection holds no such subscription.
      const connz = (await (await fetch(`http://127.0.0.1:${server.monitorPort}/connz?subs=1`)).json()) as {
        connections: { name?: string; subscriptions_list?: string[] }[];
      };
      const batchSubs = connz.connections.find((c) => c.name === 'batch')?.subscriptions_list;
      expect(batchSubs).toBeDefined();
      expect(batchSubs?.some((s) => s.startsWith('_INBOX.'))).toBe(true); // its reply inbox is there
      expect(batchSubs).not.toContain('sy.state.>');
    });

    it('cannot publish on sy.chaos.> nor on sy.admin.>', async () => {
      for (const app of [flagship, batch]) {
        const chaos = mark('app-chaos');
        const drain = mark('app-drain');
        const before = errors(app).length;
        app.publish('sy.chaos.anthropic.global', chaos);
        app.publish('sy.admin.drain.router-1', drain);
        await expect(app.request('sy.admin.state', mark('app-admin'), { timeout: 2_000 })).rejects.toSatisfy((err) =>
          isViolation(err, 'publish', 'sy.admin.state'),
        );
        await app.flush();
        await waitFor(
          () =>
            errors(app).slice(before).some((e) => isViolation(e, 'publish', 'sy.chaos.anthropic.global')) &&
            errors(app).slice(before).some((e) => isViolation(e, 'publish', 'sy.admin.drain.router-1')),
          'publish permission violations for chaos and drain',
        );

        // Controls: the operator's own chaos and admin messages reach the same receivers.
        const control = mark('chaos-control');
        operator.publish('sy.chaos.anthropic.global', control);
        await waitFor(() => logged(simulatorLog, control).length === 1, 'the simulator to receive the control fault');
        await routersCaughtUp();
        expect(logged(simulatorLog, chaos)).toEqual([]);
        expect(logged(routerLog, drain)).toEqual([]);
      }
    });

    it('cannot subscribe to the gossip, admin or chaos subjects', async () => {
      for (const subject of ['sy.state.>', 'sy.node.>', 'sy.admin.>', 'sy.chaos.>', 'sy.events.>', 'sy.alert.>', '$SRV.>', 'sy.req.>']) {
        const refusal = await subscriptionRefusal(flagship, () => flagship.subscribe(subject));
        expect(isViolation(refusal, 'subscription', subject), subject).toBe(true);
      }
    });
  });

  describe('router nodes', () => {
    it('share sy.req.* in the queue group sy-routers: each request reaches exactly one node', async () => {
      const sent = Array.from({ length: 20 }, () => mark('spread'));
      const replies = await Promise.all(sent.map((id) => flagship.request('sy.req.conversation_serving', id, { timeout: 2_000 })));
      expect(replies.map((r) => r.json<{ body: string }>().body)).toEqual(sent);
      for (const id of sent) expect(logged(routerLog, id)).toHaveLength(1);
    });

    it('take the requests addressed to them by name outside the group, each only its own', async () => {
      const id = mark('named');
      const reply = await flagship.request('sy.req.conversation_serving.router-2', id, { timeout: 2_000 });
      expect(reply.json<{ node: string }>().node).toBe('router-2');
      expect(logged(routerLog, id)).toEqual([{ node: 'router-2', subject: 'sy.req.conversation_serving.router-2', body: id, queue: false }]);
      // No node may take another's: router-1 cannot read what is handed to router-2.
      const other = await subscriptionRefusal(router1, () => router1.subscribe('sy.req.*.router-2'));
      expect(isViolation(other, 'subscription', 'sy.req.*.router-2')).toBe(true);
      // An application addresses a node only as its own use case.
      const before = errors(batch).length;
      batch.publish('sy.req.conversation_serving.router-1', mark('forged'));
      await batch.flush();
      await waitFor(() => errors(batch).slice(before).some((e) => isViolation(e, 'publish', 'sy.req.conversation_serving.router-1')), 'the publish violation');
    });

    it('may not take sy.req.> outside the queue group, so no node can shadow every request', async () => {
      const plain = await subscriptionRefusal(router1, () => router1.subscribe('sy.req.>'));
      expect(isViolation(plain, 'subscription', 'sy.req.>')).toBe(true);
      const every = await subscriptionRefusal(router1, () => router1.subscribe('sy.req.*'));
      expect(isViolation(every, 'subscription', 'sy.req.*')).toBe(true);
      const otherQueue = await subscriptionRefusal(router1, () => router1.subscribe('sy.req.>', { queue: 'eavesdroppers' }));
      expect(isViolation(otherQueue, 'subscription', 'sy.req.>')).toBe(true);
      expect(otherQueue).toMatchObject({ queue: 'eavesdroppers' });
    });

    it("stream many events to the requester's inbox, but cannot publish to an inbox that sent them nothing", async () => {
      const inbox = createInbox();
      const events: { seq: number }[] = [];
      const sub = flagship.subscribe(inbox, { callback: (_err, msg) => void events.push(msg.json()) });
      await flagship.flush();
      flagship.publish('sy.req.conversation_serving', `stream:5:${mark('stream')}`, { reply: inbox });
      await waitFor(() => events.length === 5, 'five streamed events');
      expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);

      // allow_responses covers reply subjects of messages received, not the _INBOX.> namespace.
      const before = errors(router1).length;
      const forged = createInbox();
      const spoofed: string[] = [];
      const victim = flagship.subscribe(forged, { callback: (_err, msg) => void spoofed.push(msg.string()) });
      await flagship.flush();
      router1.publish(forged, 'spoofed reply');
      router1.publish('sy.req.conversation_serving', 'router speaking as an app');
      await router1.flush();
      await waitFor(
        () =>
          errors(router1).slice(before).some((e) => isViolation(e, 'publish', forged)) &&
          errors(router1).slice(before).some((e) => isViolation(e, 'publish', 'sy.req.conversation_serving')),
        'publish permission violations on the router',
      );
      // Controls: a reply from router-1 to the flagship, and the operator's message to both routers.
      await requestAnsweredBy(flagship, 'sy.req.conversation_serving', 'router-1');
      await routersCaughtUp();
      expect(spoofed).toEqual([]);
      expect(logged(routerLog, 'router speaking as an app')).toEqual([]);
      sub.unsubscribe();
      victim.unsubscribe();
    });

    it('cannot publish an admin command, so no router can be made to drain another', async () => {
      const before = errors(router1).length;
      router1.publish('sy.admin.drain.router-2', JSON.stringify({ command: 'drain' }));
      await router1.flush();
      await waitFor(() => errors(router1).slice(before).some((e) => isViolation(e, 'publish', 'sy.admin.drain.router-2')), 'the publish violation');
      await routersCaughtUp();
      expect(routerLog.filter((s) => s.subject === 'sy.admin.drain.router-2')).toEqual([]);
    });

    it('publish and receive digests on sy.state.> and heartbeats on sy.node.>', async () => {
      const digest = mark('digest');
      const beat = mark('beat');
      router1.publish('sy.state.anthropic.global', digest);
      router1.publish('sy.node.router-1', beat);
      await waitFor(
        () => logged(routerLog, digest).some((s) => s.node === 'router-2') && logged(routerLog, beat).some((s) => s.node === 'router-2'),
        'router-2 to receive router-1 digest and heartbeat',
      );
      expect(logged(routerLog, digest).map((s) => s.subject)).toContain('sy.state.anthropic.global');
      expect(errors(router1).filter((e) => isViolation(e, 'publish', 'sy.state.anthropic.global'))).toEqual([]);
    });

    it('publish and receive usage events and alerts, which operators also receive', async () => {
      const alerts: string[] = [];
      const sub = operator.subscribe('sy.alert.>', { callback: (_err, msg) => void alerts.push(msg.string()) });
      await operator.flush();
      const usage = mark('usage');
      const alert = mark('alert');
      router2.publish('sy.events.usage', usage);
      router2.publish('sy.alert.spof', alert);
      await waitFor(
        () => logged(routerLog, usage).some((s) => s.node === 'router-1') && logged(routerLog, alert).some((s) => s.node === 'router-1'),
        'router-1 to receive the usage event and the alert',
      );
      await waitFor(() => alerts.includes(alert), 'the operator to receive the alert');
      expect(errors(router2).filter((e) => e instanceof PermissionViolationError)).toEqual([]);
      sub.unsubscribe();
    });
  });

  describe('operators', () => {
    it('send sy.admin.state requests that router nodes answer', async () => {
      const replies = await operator.requestMany('sy.admin.state', mark('admin'), { strategy: 'count', maxMessages: 2, maxWait: 2_000 });
      const nodes: string[] = [];
      for await (const msg of replies) nodes.push(msg.json<{ node: string }>().node);
      expect(nodes.sort()).toEqual(['router-1', 'router-2']);
    });

    it('discover router nodes through $SRV and inject faults on sy.chaos.>', async () => {
      const ping = await operator.request('$SRV.PING.switchyard', '', { timeout: 2_000 });
      expect(ping.json()).toMatchObject({ name: 'switchyard' });
      const ack = await operator.request('sy.chaos.bedrock.us-east-1', JSON.stringify({ fault: 'outage', durationMs: 1_000 }), {
        timeout: 2_000,
      });
      expect(ack.json()).toEqual({ applied: 'sy.chaos.bedrock.us-east-1' });
    });

    it('cannot publish requests as an application', async () => {
      await expect(operator.request('sy.req.conversation_serving', mark('operator-req'), { timeout: 2_000 })).rejects.toSatisfy((err) =>
        isViolation(err, 'publish', 'sy.req.conversation_serving'),
      );
    });
  });

  it('the simulator only answers faults: it may publish nothing of its own', async () => {
    const before = errors(simulator).length;
    simulator.publish('sy.state.anthropic.global', 'from the simulator');
    await simulator.flush();
    await waitFor(
      () => errors(simulator).slice(before).some((e) => isViolation(e, 'publish', 'sy.state.anthropic.global')),
      'a publish permission violation on the simulator',
    );
  });
});

// With every application allowed `_INBOX.>`, any of them can read the others' replies. Giving
// each application its own inbox prefix closes that; routers need no change, since
// allow_responses follows whatever reply subject a request carried.
describe('per-application inbox prefixes (hardening in docs/deployment.md)', () => {
  let shared: NatsServerHandle | undefined;
  let hardened: NatsServerHandle | undefined;
  const conns: NatsConnection[] = [];

  afterAll(async () => {
    await Promise.allSettled(conns.map((nc) => nc.close()));
    await Promise.allSettled([shared?.stop(), hardened?.stop()]);
  });

  /** The tested permission file with each application's `_INBOX.>` narrowed to its own prefix. */
  function withInboxPrefixes(permissions: string): string {
    let out = permissions;
    for (const [block, prefix] of [
      ['CONVERSATION_SERVING_PERMISSIONS', '_INBOX.conversation_serving'],
      ['BATCH_PERMISSIONS', '_INBOX.otherwise'],
    ] as const) {
      const start = out.indexOf(`${block} = {`);
      const end = out.indexOf('\n}\n', start);
      expect(start, block).toBeGreaterThanOrEqual(0);
      const body = out.slice(start, end);
      expect(body.match(/"_INBOX\.>"/g), block).toHaveLength(1);
      out = out.slice(0, start) + body.replace('"_INBOX.>"', `"${prefix}.>"`) + out.slice(end);
    }
    return out;
  }

  async function open(server: NatsServerHandle, id: Identity, name: string, inboxPrefix?: string): Promise<NatsConnection> {
    const nc = await connect({
      servers: server.url,
      name,
      reconnect: false,
      authenticator: nkeyAuthenticator(new TextEncoder().encode(id.seed)),
      ...(inboxPrefix ? { inboxPrefix } : {}),
    });
    conns.push(nc);
    return nc;
  }

  function echoRouter(nc: NatsConnection): void {
    nc.subscribe('sy.req.>', { queue: 'sy-routers', callback: (_err, msg) => void msg.respond(`answer to ${msg.string()}`) });
  }

  it("with the shared _INBOX.> any application can read another's replies", async () => {
    const ids = newIdentities();
    shared = await startNatsServer({ configText: serverConfig(await readFile(FIXTURE, 'utf8'), ids) });
    const router = await open(shared, ids.ROUTER_1, 'router-1');
    echoRouter(router);
    await router.flush();
    const flagship = await open(shared, ids.CONVERSATION_SERVING, 'flagship');
    const batch = await open(shared, ids.BATCH, 'batch');
    const overheard: string[] = [];
    batch.subscribe('_INBOX.>', { callback: (_err, msg) => void overheard.push(msg.string()) });
    await batch.flush();
    const secret = mark('customer-conversation');
    await flagship.request('sy.req.conversation_serving', secret, { timeout: 2_000 });
    await waitFor(() => overheard.includes(`answer to ${secret}`), "the batch job to overhear the flagship's reply");
  });

  it('with its own prefix each application gets its replies, and cannot subscribe to the other prefix', async () => {
    const ids = newIdentities();
    hardened = await startNatsServer({ configText: serverConfig(withInboxPrefixes(await readFile(FIXTURE, 'utf8')), ids) });
    const router = await open(hardened, ids.ROUTER_1, 'router-1');
    echoRouter(router);
    await router.flush();
    const flagship = await open(hardened, ids.CONVERSATION_SERVING, 'flagship', '_INBOX.conversation_serving');
    const batch = await open(hardened, ids.BATCH, 'batch', '_INBOX.otherwise');

    const question = mark('flagship');
    const answer = await flagship.request('sy.req.conversation_serving', question, { timeout: 2_000 });
    expect(answer.string()).toBe(`answer to ${question}`);
    expect(answer.subject.startsWith('_INBOX.conversation_serving.')).toBe(true);
    const batchAnswer = await batch.request('sy.req.otherwise', 'batch', { timeout: 2_000 });
    expect(batchAnswer.string()).toBe('answer to batch');

    for (const subject of ['_INBOX.conversation_serving.>', '_INBOX.>']) {
      const refusal = await subscriptionRefusal(batch, () => batch.subscribe(subject));
      expect(isViolation(refusal, 'subscription', subject), subject).toBe(true);
    }

    // An application left on the default prefix cannot even receive its own replies: the prefix is required.
    const unprefixed = await open(hardened, ids.BATCH, 'batch-default-prefix');
    // (nats.js subscribes its reply inbox `_INBOX.<nuid>.*` on first request; the server refuses it.)
    const refused = await unprefixed.request('sy.req.otherwise', 'x', { timeout: 2_000 }).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err.cause : undefined),
    );
    expect(refused).toBeInstanceOf(PermissionViolationError);
    expect(refused).toMatchObject({ operation: 'subscription', subject: expect.stringMatching(/^_INBOX\.[^.]+\.\*$/) });
  });
});

// The applications' explicit deny list is what still holds if someone later widens an allow list.
describe("the applications' deny list", () => {
  let server: NatsServerHandle | undefined;
  let app: NatsConnection | undefined;

  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('keeps gossip, admin, chaos and $SRV closed even under a broad allow of sy.> and $SRV.>', async () => {
    const permissions = await readFile(FIXTURE, 'utf8');
    const narrow = `CONVERSATION_SERVING_PERMISSIONS = {
  publish: { allow: ["sy.req.conversation_serving", "sy.req.conversation_serving.*", "sy.cancel.>", "sy.replay.>"], deny: $APP_DENY }
  subscribe: { allow: ["_INBOX.>"], deny: $APP_DENY }
}`;
    const broad = `CONVERSATION_SERVING_PERMISSIONS = {
  publish: { allow: ["sy.>", "$SRV.>"], deny: $APP_DENY }
  subscribe: { allow: ["_INBOX.>", "sy.>", "$SRV.>"], deny: $APP_DENY }
}`;
    expect(permissions).toContain(narrow);
    const ids = newIdentities();
    server = await startNatsServer({ configText: serverConfig(permissions.replace(narrow, broad), ids) });
    app = await connect({
      servers: server.url,
      name: 'widened-app',
      reconnect: false,
      authenticator: nkeyAuthenticator(new TextEncoder().encode(ids.CONVERSATION_SERVING.seed)),
    });
    const nc = app;
    const errors = collectErrors(nc);

    for (const subject of ['sy.state.>', 'sy.node.>', 'sy.admin.>', 'sy.chaos.>', 'sy.alert.>', 'sy.events.>', '$SRV.>']) {
      const refusal = await subscriptionRefusal(nc, () => nc.subscribe(subject));
      expect(isViolation(refusal, 'subscription', subject), subject).toBe(true);
    }
    const denied = ['sy.state.anthropic.global', 'sy.node.router-1', 'sy.admin.drain.router-1', 'sy.chaos.anthropic.global', '$SRV.PING'];
    for (const subject of denied) nc.publish(subject, 'x');
    // The widening itself took effect: a subject only the broad allow covers is accepted.
    nc.publish('sy.req.otherwise', 'x');
    await nc.flush();
    await waitFor(() => denied.every((subject) => errors.some((e) => isViolation(e, 'publish', subject))), 'every denied publish refused');
    expect(errors.some((e) => isViolation(e, 'publish', 'sy.req.otherwise'))).toBe(false);
  });
});
