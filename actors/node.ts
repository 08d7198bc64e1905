/**
 * A router node on the bus: takes requests from `sy.req.*` in the queue group `sy-routers`, and
 * those addressed to it on `sy.req.*.<node>`, runs each through the router system, and answers on
 * the request's inbox with the messages of the request protocol (src/transport/protocol.ts). Honours cancels and replay requests that carry the
 * caller's token (held-requests.ts), answers `sy.admin.state`, `sy.admin.drain.<node>` and `$SRV`,
 * and drains on request: no new work, the work in flight finished within a grace period.
 *
 * Everything on the bus may be forged: a reply goes only to an inbox (reply-guard.ts), a drain
 * needs an explicit command, and every refusal is counted and logged, at most once per interval.
 */
import { randomUUID } from 'node:crypto';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Config } from '../src/config/index.js';
import { ErrorCode, RequestFailedError, type CanonicalRequest, type Failure } from '../src/domain/index.js';
import { VERSION } from '../src/transport/version.js';
import { silentLogger, ThrottledWarnings, type Logger } from '../src/observability/index.js';
import {
  adminDrainSubject,
  adminStateSubject,
  cancelWildcard,
  declineMessage,
  directRequestWildcard,
  DrainCommandSchema,
  generateSigner,
  isInboxSubject,
  MAX_HANDBACKS,
  Outbox,
  readRequest,
  randomToken,
  ReplyLog,
  replayWildcard,
  requestIdOfControlSubject,
  requestSubject,
  requestWildcard,
  ROUTER_QUEUE,
  ROUTER_SERVICE_NAME,
  startServiceResponder,
  TrustedRouters,
  usageSubject,
  type GossipSigner,
  type RequestHeaders,
} from '../src/transport/index.js';
import { startGossip, type Gossip } from './gossip.js';
import { DEFAULT_HELD_LIMITS, HeldRequests, type HeldRequest, type HeldRequestLimits } from './held-requests.js';
import { createRouterSystem, type RouterSystem, type RouterSystemDeps, type RouterSystemOptions } from './router-system.js';

/** How long an overloaded node asks the caller to wait: about as long as a short answer takes. */
const OVERLOADED_RETRY_AFTER_MS = 1_000;

export interface RouterNodeOptions {
  connection: NatsConnection;
  config: Config;
  nodeId: string;
  deps: RouterSystemDeps;
  system: RouterSystemOptions;
  prefix?: string;
  /** How long a drain waits for requests in flight. */
  graceMs?: number;
  version?: string;
  /** How often digests and heartbeats go out (default 1 s). */
  gossipIntervalMs?: number;
  /** Reply subjects must start with one of these (default: the config's `routers.replyPrefixes`). */
  replyPrefixes?: readonly string[];
  /** This node's NKey, which signs its gossip; a fresh one (trusted by no peer) when absent. */
  signer?: GossipSigner;
  /** Whose gossip counts; default: the config's `routers.trustedKeys`. */
  trusted?: TrustedRouters;
  heldLimits?: Partial<HeldRequestLimits>;
  /** Requests held at once before `overloaded` (default: the config's `routers.maxInFlight`). */
  maxInFlight?: number;
  log?: Logger;
  /** Vendor-regions this node cannot call (credentials missing here), with why: never tried, never gossiped. */
  unusable?: Readonly<Record<string, string>>;
}

export interface RouterNodeCounts {
  taken: number;
  inFlight: number;
  failed: number;
  /** Requests handed back for want of room here while a peer had some; not counted as failed. */
  handedBack: number;
  /** Messages refused, by why: a reply subject that is no inbox, a cancel without the caller's token, ... */
  refused: Record<string, number>;
}

export interface RouterNode {
  nodeId: string;
  system: RouterSystem;
  gossip: Gossip;
  counts(): RouterNodeCounts;
  state(): 'serving' | 'draining' | 'stopped';
  drain(graceMs?: number): Promise<void>;
  /** Settles once the node has stopped, however the drain was asked for (a signal, `sy.admin.drain`). */
  stopped: Promise<void>;
}

export function startRouterNode(options: RouterNodeOptions): RouterNode {
  const { connection: nc, nodeId } = options;
  const prefix = options.prefix;
  const replyPrefixes = options.replyPrefixes ?? options.config.routers.replyPrefixes;
  const maxInFlight = options.maxInFlight ?? options.config.routers.maxInFlight;
  const log = (options.log ?? silentLogger()).child({ component: 'router-node', node: nodeId });
  const warnings = new ThrottledWarnings(log);
  const system = createRouterSystem(options.config, options.deps, options.system);
  for (const [vendorRegion, reason] of Object.entries(options.unusable ?? {})) system.fleet.markUnusable(vendorRegion, reason);
  // The router machine's lifecycle is the node's: one state, read where it is needed.
  const state = (): 'serving' | 'draining' | 'stopped' => system.lifecycle();
  let draining: Promise<void> | undefined;
  const counts = { taken: 0, inFlight: 0, failed: 0, handedBack: 0 };
  const outbox = new Outbox((subject, data) => nc.publish(subject, data));
  const publish = (subject: string, data: string): void => outbox.publish(subject, data);
  const held = new HeldRequests(nodeId, publish, { ...DEFAULT_HELD_LIMITS, ...options.heldLimits });
  const gossip = startGossip({
    connection: nc,
    fleet: system.fleet,
    nodeId,
    environment: options.system.environment,
    version: options.version ?? VERSION,
    configRevision: () => 1,
    intervalMs: options.gossipIntervalMs,
    prefix,
    signer: options.signer ?? generateSigner().signer,
    trusted: options.trusted ?? new TrustedRouters(options.config.routers.trustedKeys),
    windowMs: options.system.health?.windowMs,
    log,
  });
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));

  const toInbox = (msg: Msg, kind: string): msg is Msg & { reply: string } => {
    if (isInboxSubject(msg.reply, replyPrefixes)) return true;
    warnings.warn(kind, { subject: msg.subject, reply: msg.reply ?? null }, 'refused to answer: the reply subject is not an inbox');
    return false;
  };

  // Service discovery ($SRV): any NATS tooling can find and measure the router nodes.
  const service = startServiceResponder(
    nc,
    {
      name: ROUTER_SERVICE_NAME,
      id: nodeId,
      version: options.version ?? VERSION,
      description: 'Switchyard LLM router node',
      metadata: { environment: options.system.environment },
      endpoints: [
        { name: 'requests', subject: requestWildcard(prefix), queueGroup: ROUTER_QUEUE },
        { name: 'state', subject: adminStateSubject(prefix) },
        { name: 'drain', subject: adminDrainSubject(nodeId, prefix) },
      ],
    },
    {
      info: () => ({ state: state(), ...counts }),
      replyAllowed: (reply) => isInboxSubject(reply, replyPrefixes),
      onRefused: (msg) => warnings.warn('srv_reply_subject', { subject: msg.subject, reply: msg.reply ?? null }, 'refused to answer: the reply subject is not an inbox'),
    },
  );
  const subscribe = (subject: string, handle: (msg: Msg) => void, queue?: string): Subscription =>
    nc.subscribe(subject, {
      ...(queue ? { queue } : {}),
      callback: (error, msg) => {
        if (!error) handle(msg);
      },
    });
  // The acknowledgement leaves at once (the outbox is flushed after each request read): it is
  // what the client times most tightly, and held for the turn a node that is behind answered
  // late, drew the client's copies, and fell further behind (docs/architecture.md, hot path).
  const take = (msg: Msg): void => {
    serve(msg);
    outbox.flush();
  };
  const requests = subscribe(requestWildcard(prefix), take, ROUTER_QUEUE);
  // Requests addressed to this node: a peer with no room for them named this one (a hand-back).
  const direct = subscribe(directRequestWildcard(nodeId, prefix), take);
  const subscriptions: Subscription[] = [
    requests,
    direct,
    subscribe(cancelWildcard(prefix), (msg) => control(msg, 'cancel')),
    subscribe(replayWildcard(prefix), (msg) => control(msg, 'replay')),
    subscribe(adminStateSubject(prefix), (msg) => {
      if (!toInbox(msg, 'admin_reply_subject')) return;
      msg.respond(
        JSON.stringify({
          nodeId,
          state: state(),
          environment: options.system.environment,
          counts: node.counts(),
          peers: gossip.peers().map((p) => p.id),
          fleet: system.fleet.snapshot(),
          unusable: system.fleet.unusableVendorRegions(),
          views: [...system.fleet.views().values()],
          capacity: system.fleet.capacity.status(),
        }),
      );
    }),
    subscribe(adminDrainSubject(nodeId, prefix), (msg) => {
      if (!toInbox(msg, 'admin_reply_subject')) return;
      let command: unknown;
      try {
        command = msg.json();
      } catch {
        command = undefined;
      }
      if (!DrainCommandSchema.safeParse(command).success) {
        warnings.warn('admin_command', { subject: msg.subject }, 'refused a drain without the explicit command body');
        msg.respond(JSON.stringify({ nodeId, error: 'body: expected {"command":"drain"}' }));
        return;
      }
      msg.respond(JSON.stringify({ nodeId, draining: true }));
      log.info({ event: 'drain_requested' }, 'drain requested over NATS');
      void node.drain();
    }),
  ];

  /** `sy.cancel.<id>` and `sy.replay.<id>` reach every node; held-requests.ts decides. */
  function control(msg: Msg, kind: 'cancel' | 'replay'): void {
    const requestId = requestIdOfControlSubject(msg.subject, prefix);
    if (!requestId) return;
    const refusal = kind === 'cancel' ? held.cancel(requestId, msg.data) : held.replay(requestId, msg.data);
    if (refusal) warnings.warn(`${kind}_${refusal}`, { requestId }, `refused a ${kind} that does not carry the caller's token`);
  }

  function serve(msg: Msg): void {
    if (!toInbox(msg, 'reply_subject')) return;
    const intake = readRequest(msg, prefix);
    const requestId = intake.head?.requestId ?? randomUUID();
    if ('error' in intake) return new ReplyLog(requestId, nodeId, msg.reply, publish).send({ kind: 'error', error: intake.error });
    const { request, head, useCase } = intake;
    if (head.avoidNodes?.includes(nodeId)) return publish(msg.reply, declineMessage(requestId, nodeId, 'the caller has just seen this node fail'));
    if (counts.inFlight >= maxInFlight) {
      warnings.warn('overloaded', { inFlight: counts.inFlight, maxInFlight }, 'refused a request: this node holds as many as routers.maxInFlight allows');
      const error: Failure = { code: ErrorCode.Overloaded, message: `this router node holds ${counts.inFlight} requests, its limit (routers.maxInFlight)`, retryable: true, retryAfterMs: OVERLOADED_RETRY_AFTER_MS };
      return new ReplyLog(requestId, nodeId, msg.reply, publish).send({ kind: 'error', error });
    }
    if (held.inFlight(requestId)) {
      const error: Failure = { code: ErrorCode.InvalidRequest, message: `header requestId: ${requestId} is already in flight on this node`, retryable: false, field: 'header requestId' };
      return new ReplyLog(requestId, nodeId, msg.reply, publish).send({ kind: 'error', error });
    }
    const token = head.callerToken ?? randomToken();
    const entry = held.open(requestId, msg.reply, token);
    counts.taken++;
    counts.inFlight++;
    // A token the caller did not send goes back to it alone, so it can cancel and ask for replays.
    entry.log.send({ kind: 'accepted', ...(head.callerToken ? {} : { token }) });
    // Sent here by name, it has had its one hop to a peer with room: handed back again, it goes
    // back to the queue group. (Named peers chosen by views a second old, a burst would otherwise
    // pile its requests up waiting at the few nodes the views showed room on, while seats freed
    // elsewhere found no one waiting.)
    void run(entry, request, head, useCase, msg.subject !== requestSubject(useCase, prefix));
  }

  async function run(entry: HeldRequest, request: CanonicalRequest, head: RequestHeaders, useCase: string, directed: boolean): Promise<void> {
    const { log: replies, requestId } = entry;
    const started = Date.now();
    const startedNs = process.hrtime.bigint();
    let outcome: string = 'ok';
    const fail = (failure: Failure): void => {
      outcome = failure.code;
      // Nothing reached a vendor or the caller but `accepted`: the caller sends it again elsewhere.
      if (failure.code === ErrorCode.HandedBack) publish(replies.inbox, declineMessage(requestId, nodeId, failure.message, directed ? undefined : failure.peer));
      else replies.send({ kind: 'error', error: failure });
    };
    try {
      const mayHandBack = (head.handbacks ?? 0) < MAX_HANDBACKS;
      const requestOptions = { useCase, deadlineMs: head.deadlineMs, signal: entry.controller.signal, tenant: head.tenant, priority: head.priority, mayHandBack };
      if (head.stream === '1') {
        const stream = system.stream(request, requestOptions);
        for await (const event of stream) {
          // The request's failure goes out below, in the one failure shape, from its outcome.
          if (event.type === 'error') continue;
          if (event.type === 'end') {
            const result = await stream.outcome;
            replies.send({ kind: 'event', event, ...(result.servedBy ? { servedBy: Object.assign({}, result.servedBy, { attempts: result.attempts.length, resumed: result.resumed }) } : {}) });
          } else if (event.type === 'start') {
            const by = stream.startedBy();
            replies.send({ kind: 'event', event, ...(by ? { servedBy: Object.assign({}, by, { resumed: 0 }) } : {}) });
          } else replies.send({ kind: 'event', event });
        }
        const result = await stream.outcome;
        if (!result.ok) fail(result.failure ?? { code: ErrorCode.Internal, message: 'the request ended without an answer', retryable: false });
      } else {
        const result = await system.complete(request, requestOptions);
        replies.send({ kind: 'result', response: result.response, servedBy: Object.assign({}, result.servedBy, { attempts: result.attempts, resumed: result.resumed }) });
      }
    } catch (error) {
      fail(replyError(error));
    } finally {
      held.finish(requestId);
      counts.inFlight--;
      // A request handed back has not finished: the node that keeps it reports it.
      if (outcome === ErrorCode.HandedBack) counts.handedBack++;
      else {
        if (outcome !== 'ok') counts.failed++;
        service.record('requests', Number(process.hrtime.bigint() - startedNs), outcome === 'ok' ? undefined : outcome);
        publish(
          usageSubject(prefix),
          JSON.stringify({ requestId, node: nodeId, tenant: head.tenant, useCase, model: request.model, outcome, durationMs: Date.now() - started }),
        );
      }
      // The last request in flight has nothing to share a write with this turn: its end leaves
      // now rather than after whatever else the turn still runs (about half a millisecond, one
      // request at a time). A busy node still sends its turn's replies together.
      if (counts.inFlight === 0) outbox.flush();
    }
  }

  const node: RouterNode = {
    nodeId,
    system,
    gossip,
    stopped,
    counts: () => ({ ...counts, refused: warnings.totals() }),
    state,
    drain(graceMs) {
      draining ??= (async () => {
        // Stop taking requests first, so the queue group sends new ones to other nodes; then the
        // router machine drains what is in flight.
        await Promise.all([requests, direct].map((sub) => sub.drain().catch(() => undefined)));
        await system.drain(graceMs ?? options.graceMs ?? 30_000);
        outbox.flush();
        for (const sub of subscriptions) if (!sub.isClosed()) sub.unsubscribe();
        held.stop();
        await service.stop();
        await gossip.stop();
        await system.stop();
        resolveStopped();
      })();
      return draining;
    },
  };
  return node;
}

function replyError(error: unknown): Failure {
  if (error instanceof RequestFailedError) {
    return {
      code: error.code,
      message: error.message,
      retryable: error.retryable,
      ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
      ...(error.delivered !== undefined ? { delivered: error.delivered } : {}),
      ...(error.field !== undefined ? { field: error.field } : {}),
      ...(error.peer !== undefined ? { peer: error.peer } : {}),
    };
  }
  return { code: ErrorCode.Internal, message: error instanceof Error ? error.message : String(error), retryable: true };
}
