/**
 * A router node on the bus: takes requests from `sy.req.>` in the queue group `sy-routers`, runs
 * each through the router system, and answers on the request's inbox with the numbered messages
 * of the request protocol (src/transport/protocol.ts). Cancels on `sy.cancel.<id>`, answers
 * `sy.admin.state` and `sy.admin.drain.<node>`, and drains on request: no new work, the work in
 * flight finished within a grace period.
 */
import { nuid, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Config } from '../src/config/index.js';
import { CanonicalRequestSchema, ErrorCode, RequestFailedError, requestLimitError } from '../src/domain/index.js';
import {
  Header,
  KEEPALIVE_MS,
  RequestHeadersSchema,
  ROUTER_QUEUE,
  adminDrainSubject,
  adminStateSubject,
  cancelSubject,
  requestWildcard,
  startServiceResponder,
  useCaseOfRequestSubject,
  usageSubject,
  type ReplyBody,
  type ReplyError,
} from '../src/transport/index.js';
import { startGossip, type Gossip } from './gossip.js';
import { createRouterSystem, type RouterSystem, type RouterSystemDeps, type RouterSystemOptions } from './router-system.js';

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
}

export interface RouterNode {
  nodeId: string;
  system: RouterSystem;
  gossip: Gossip;
  /** Requests this node has taken, ended, and failed; for status. */
  counts(): { taken: number; inFlight: number; failed: number };
  state(): 'serving' | 'draining' | 'stopped';
  drain(graceMs?: number): Promise<void>;
}

export function startRouterNode(options: RouterNodeOptions): RouterNode {
  const { connection: nc, nodeId } = options;
  const prefix = options.prefix;
  const system = createRouterSystem(options.config, options.deps, options.system);
  let state: 'serving' | 'draining' | 'stopped' = 'serving';
  const counts = { taken: 0, inFlight: 0, failed: 0 };
  const subscriptions: Subscription[] = [];
  const gossip = startGossip({
    connection: nc,
    fleet: system.fleet,
    nodeId,
    environment: options.system.environment,
    version: options.version ?? '0.1.0',
    configRevision: () => 1,
    intervalMs: options.gossipIntervalMs,
    prefix,
  });

  // Service discovery ($SRV): any NATS tooling can find and measure the router nodes.
  const service = startServiceResponder(
    nc,
    {
      name: 'switchyard',
      id: nodeId,
      version: options.version ?? '0.1.0',
      description: 'Switchyard LLM router node',
      metadata: { environment: options.system.environment },
      endpoints: [
        { name: 'requests', subject: requestWildcard(prefix), queueGroup: ROUTER_QUEUE },
        { name: 'state', subject: adminStateSubject(prefix) },
        { name: 'drain', subject: adminDrainSubject(nodeId, prefix) },
      ],
    },
    { info: () => ({ state, ...counts }) },
  );
  const requests = nc.subscribe(requestWildcard(prefix), {
    queue: ROUTER_QUEUE,
    callback: (error, msg) => {
      if (!error) void serve(msg);
    },
  });
  subscriptions.push(requests);
  subscriptions.push(
    nc.subscribe(adminStateSubject(prefix), {
      callback: (_error, msg) => {
        msg.respond(
          JSON.stringify({
            nodeId,
            state,
            environment: options.system.environment,
            counts,
            peers: gossip.peers().map((p) => p.id),
            fleet: system.fleet.snapshot(),
            views: [...system.fleet.views().values()],
          }),
        );
      },
    }),
    nc.subscribe(adminDrainSubject(nodeId, prefix), {
      callback: (_error, msg) => {
        msg.respond(JSON.stringify({ nodeId, draining: true }));
        void node.drain();
      },
    }),
  );

  async function serve(msg: Msg): Promise<void> {
    if (!msg.reply) return;
    const reply = msg.reply;
    let seq = 0;
    const send = (body: ReplyBody) => nc.publish(reply, JSON.stringify({ ...body, seq: seq++, node: nodeId }));
    const fail = (error: ReplyError) => send({ kind: 'error', error });

    const parsed = parseRequest(msg);
    if ('error' in parsed) return fail(parsed.error);
    const { request, head, useCase } = parsed;
    const requestId = head.requestId ?? nuid.next();
    counts.taken++;
    counts.inFlight++;
    send({ kind: 'accepted', requestId });
    const keepalive = setInterval(() => send({ kind: 'keepalive' }), KEEPALIVE_MS);
    const controller = new AbortController();
    const cancel = nc.subscribe(cancelSubject(requestId, prefix), { max: 1, callback: () => controller.abort() });
    const started = Date.now();
    const startedNs = process.hrtime.bigint();
    let outcome = 'ok';
    try {
      const requestOptions = { useCase, deadlineMs: head.deadlineMs, signal: controller.signal };
      if (head.stream === '1') {
        const stream = system.stream(request, requestOptions);
        for await (const event of stream) {
          // The request's failure goes out below, in the one failure shape, from its outcome.
          if (event.type === 'error') continue;
          if (event.type === 'end') {
            const result = await stream.outcome;
            send({ kind: 'event', event, ...(result.servedBy ? { servedBy: { ...result.servedBy, attempts: result.attempts.length, resumed: result.resumed } } : {}) });
          } else send({ kind: 'event', event });
        }
        const result = await stream.outcome;
        if (!result.ok) {
          const failure = result.failure ?? { code: ErrorCode.Internal, message: 'the request ended without an answer', retryable: false };
          outcome = failure.code;
          fail(failure);
        }
      } else {
        const result = await system.complete(request, requestOptions);
        send({ kind: 'result', response: result.response, servedBy: { ...result.servedBy, attempts: result.attempts, resumed: result.resumed } });
      }
    } catch (error) {
      const failure = replyError(error);
      outcome = failure.code;
      fail(failure);
    } finally {
      clearInterval(keepalive);
      cancel.unsubscribe();
      counts.inFlight--;
      if (outcome !== 'ok') counts.failed++;
      service.record('requests', Number(process.hrtime.bigint() - startedNs), outcome === 'ok' ? undefined : outcome);
      nc.publish(
        usageSubject(prefix),
        JSON.stringify({ requestId, node: nodeId, tenant: head.tenant, useCase, model: request.model, outcome, durationMs: Date.now() - started }),
      );
    }
  }

  const node: RouterNode = {
    nodeId,
    system,
    gossip,
    counts: () => ({ ...counts }),
    state: () => state,
    async drain(graceMs) {
      if (state !== 'serving') return;
      state = 'draining';
      // Stop taking requests first, so the queue group sends new ones to other nodes.
      await requests.drain();
      await system.drain(graceMs ?? options.graceMs ?? 30_000);
      for (const sub of subscriptions) if (!sub.isClosed()) sub.unsubscribe();
      await service.stop();
      await gossip.stop();
      await system.stop();
      state = 'stopped';
    },
  };
  return node;
}

type Parsed = { request: ReturnType<typeof CanonicalRequestSchema.parse>; head: ReturnType<typeof RequestHeadersSchema.parse>; useCase: string } | { error: ReplyError };

/** A malformed request gets a typed error naming the field; it never reaches the router. */
function parseRequest(msg: Msg): Parsed {
  const useCase = useCaseOfRequestSubject(msg.subject);
  if (!useCase) return { error: { code: 'invalid_request', message: `subject "${msg.subject}" names no use case`, retryable: false, field: 'subject' } };
  const head = RequestHeadersSchema.safeParse({
    tenant: msg.headers?.get(Header.Tenant) || undefined,
    priority: msg.headers?.get(Header.Priority) || undefined,
    deadlineMs: msg.headers?.get(Header.DeadlineMs) || undefined,
    requestId: msg.headers?.get(Header.RequestId) || undefined,
    stream: msg.headers?.get(Header.Stream) || undefined,
  });
  if (!head.success) {
    const issue = head.error.issues[0];
    const field = `header ${String(issue?.path[0] ?? '')}`;
    return { error: { code: 'invalid_request', message: `${field}: ${issue?.message ?? 'invalid'}`, retryable: false, field } };
  }
  // Size and nesting before parsing: a 20,000-deep schema must cost a scan, not a parse and a retry loop.
  const limits = requestLimitError(msg.data);
  if (limits) return { error: limits };
  let json: unknown;
  try {
    json = msg.json();
  } catch {
    return { error: { code: 'invalid_request', message: 'body: not JSON; send a canonical request', retryable: false, field: 'body' } };
  }
  const body = CanonicalRequestSchema.safeParse(json);
  if (!body.success) {
    const issue = body.error.issues[0];
    const field = issue?.path.map(String).join('.') || 'body';
    return { error: { code: 'invalid_request', message: `${field}: ${issue?.message ?? 'invalid'}`, retryable: false, field } };
  }
  return { request: body.data, head: head.data, useCase };
}

function replyError(error: unknown): ReplyError {
  if (error instanceof RequestFailedError) {
    return { code: error.code, message: error.message, retryable: error.retryable, ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}), ...(error.delivered !== undefined ? { delivered: error.delivered } : {}) };
  }
  return { code: 'internal', message: error instanceof Error ? error.message : String(error), retryable: true };
}

