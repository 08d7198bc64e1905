/**
 * A router in one process: the fleet's health actors, the router lifecycle, and one request actor
 * per request, wired to the vendor adapters. `complete` and `stream` take canonical requests; the
 * answer names the deployment and model that served it and how many attempts it took.
 */
import { createActor, type Actor } from 'xstate';
import type { Dispatcher } from 'undici';
import { effectivePriority, poolFor, SHARED_POOL, tenantFor, type CapacityOptions } from '../src/capacity/index.js';
import type { Config } from '../src/config/index.js';
import { ErrorCode, joinDeltas, OTHERWISE, RequestFailedError, type CanonicalRequest, type CanonicalResponse, type ContentBlock, type Failure, type Priority, type StreamEvent } from '../src/domain/index.js';
import { connectionsByOrigin, createAdapter, createVendorDispatcher, type SecretResolver, type VendorAdapter } from '../src/vendors/index.js';
import type { HealthPolicy } from '../machines/health.machine.js';
import { requestMachine, type RequestEmitted, type RequestOutput } from '../machines/request.machine.js';
import { routerMachine } from '../machines/router.machine.js';
import { CapacityQueue } from './capacity-queue.js';
import { EventQueue } from './event-queue.js';
import { TenantDoor } from './tenant-door.js';
import { HedgeBudget } from './hedge-budget.js';
import { Fleet, type MachineClock } from './fleet.js';
import { attemptActor, chooseActor, chooseAtOnce, type RequestScope } from './request-actors.js';
import { DEFAULT_RETRY_BUDGET, RetryBudget, type RetryBudgetOptions } from './retry-budget.js';

export interface RouterSystemDeps {
  secrets: SecretResolver;
  dispatcher?: Dispatcher;
  /** Adapters by vendor-region id; built from the config when absent. */
  adapters?: ReadonlyMap<string, VendorAdapter>;
  clock?: MachineClock;
  now?: () => number;
  random?: () => number;
}

export interface RouterSystemOptions {
  environment: string;
  /** Time to first token each attempt gets before the request fails over (default 10 s). */
  ttftLimitMs?: number;
  idleTimeoutMs?: number;
  maxAttempts?: number;
  hedging?: boolean;
  health?: Partial<HealthPolicy>;
  retryBudget?: RetryBudgetOptions;
  /** The vendors' rate window and how limits are learned; tests shorten the window. */
  capacity?: Omit<CapacityOptions, 'now'>;
}

export interface RequestOptions {
  useCase?: string;
  /** The caller's overall deadline, in ms from now. */
  deadlineMs?: number;
  signal?: AbortSignal;
  hedging?: boolean;
  /** On whose behalf it runs; a name the config does not know counts as the default tenant. */
  tenant?: string | undefined;
  /** What the caller asks for; capped by what the tenant may claim. Default: the pool's priority. */
  priority?: Priority | undefined;
  /**
   * The caller can send the request again to another node (the bus's protocol can): where this
   * node has no room and a peer has, the request ends `handed_back` before any vendor is called.
   */
  mayHandBack?: boolean | undefined;
}

export interface Routed {
  servedBy: { deployment: string; model: string };
  attempts: number;
  resumed: number;
}

export interface RoutedStream extends AsyncIterable<StreamEvent> {
  /** Settles when the request ends: who served it, or the failure. Never rejects. */
  outcome: Promise<RequestOutput>;
  /** Who began the answer, once its `start` has been read; the outcome says who finished it. */
  startedBy(): StartedBy | undefined;
}

export type StartedBy = NonNullable<Extract<RequestEmitted, { type: 'out' }>['servedBy']>;

export interface RouterSystem {
  fleet: Fleet;
  complete(request: CanonicalRequest, options?: RequestOptions): Promise<{ response: CanonicalResponse } & Routed>;
  stream(request: CanonicalRequest, options?: RequestOptions): RoutedStream;
  /** Request actors still running; zero once every request has ended. */
  activeRequests(): number;
  /** Retries the node-wide retry budget has granted since start. */
  retriesGranted(): number;
  /** Per hedged use case, hedges sent and requests seen since start. */
  hedges(): Record<string, { hedges: number; requests: number }>;
  /** Where the router machine is in its lifecycle (the node's too). */
  lifecycle(): 'serving' | 'draining' | 'stopped';
  drain(graceMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The request machine with its real actors, built once: each request's scope rides in its input. */
const routedRequestMachine = requestMachine.provide({ actors: { choose: chooseActor, attempt: attemptActor } });

export function createRouterSystem(config: Config, deps: RouterSystemDeps, options: RouterSystemOptions): RouterSystem {
  const now = deps.now ?? Date.now;
  const dispatcher = deps.dispatcher ?? createVendorDispatcher({ connectionsByOrigin: connectionsByOrigin(Object.values(config.vendorRegions)) });
  const adapters =
    deps.adapters ??
    new Map(Object.values(config.vendorRegions).map((vr) => [vr.id, createAdapter(vr, { dispatcher, secrets: deps.secrets })]));
  const fleet = new Fleet(config, { policy: options.health, clock: deps.clock, now, capacity: options.capacity });
  const waiting = new CapacityQueue();
  const hedgeBudgets = new Map<string, HedgeBudget>();
  const door = new TenantDoor(now);
  fleet.capacity.onRelease((_deployment, tenant) => {
    door.open(tenant);
    waiting.released(tenant);
  });
  let requests = 0;
  const budget = new RetryBudget(options.retryBudget ?? DEFAULT_RETRY_BUDGET, now);
  const router = createActor(routerMachine, { input: { config }, ...(deps.clock ? { clock: deps.clock } : {}) }).start();
  router.send({ type: 'ready' });
  const active = new Set<Actor<typeof requestMachine>>();
  const finished = () => {
    if (router.getSnapshot().value === 'draining') router.send({ type: 'request.finished' });
  };
  const random = deps.random ?? Math.random;

  function start(request: CanonicalRequest, requestOptions: RequestOptions): RoutedStream {
    // The reader stopping early cancels the request; the actor it cancels is created below.
    const onReaderGone = { cancel: (): void => undefined };
    const queue = new EventQueue<StreamEvent>(() => onReaderGone.cancel(), joinDeltas);
    const refuse = (failure: Failure): RoutedStream => {
      queue.push({ type: 'error', error: failure });
      queue.close();
      return Object.assign(queue, { outcome: Promise.resolve({ ok: false, attempts: [], resumed: 0, failure }), startedBy: () => undefined });
    };
    if (router.getSnapshot().value !== 'serving') return refuse({ code: ErrorCode.RouterDraining, message: 'this router node is draining', retryable: true });
    const current = router.getSnapshot().context.config as Config;
    const useCase = requestOptions.useCase ?? OTHERWISE;
    const pool = poolFor(current, useCase);
    const tenant = tenantFor(current, requestOptions.tenant);
    const turnedAway = door.refusal(pool?.name ?? SHARED_POOL, tenant.name);
    if (turnedAway) return refuse(turnedAway);
    const owner = `q${++requests}`;
    // Hedging is the config's per use case; a caller's or the node's switch still overrides it.
    const hedge = current.hedge[useCase];
    let hedgeBudget = hedge ? hedgeBudgets.get(useCase) : undefined;
    if (hedge && !hedgeBudget) hedgeBudgets.set(useCase, (hedgeBudget = new HedgeBudget(hedge.maxShare / 100)));
    hedgeBudget?.deposit();
    const scope: RequestScope = {
      config: current,
      fleet,
      budget,
      adapters,
      environment: options.environment,
      useCase,
      random,
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
      pool: pool?.name ?? SHARED_POOL,
      priority: effectivePriority(requestOptions.priority, pool, tenant),
      tenant,
      owner,
      queue: waiting,
      door,
      queueWaitMs: current.capacity.queueWaitMs,
      mayHandBack: requestOptions.mayHandBack ?? false,
      hedgeBudget,
    };
    budget.deposit();
    const requestActor = createActor(routedRequestMachine, {
      input: {
        scope,
        // Made here, most requests' first choice costs no actor of its own (request-actors.ts).
        chosen: chooseAtOnce(scope, request),
        request,
        ttftLimitMs: options.ttftLimitMs ?? 10_000,
        deadlineMs: requestOptions.deadlineMs,
        hedging: requestOptions.hedging ?? options.hedging ?? hedge !== undefined,
        hedgeAfterMs: hedge && hedge.after !== 'p95' ? hedge.after : undefined,
        maxAttempts: options.maxAttempts,
      },
      ...(deps.clock ? { clock: deps.clock } : {}),
    });
    onReaderGone.cancel = () => requestActor.send({ type: 'cancel' });
    let startedBy: StartedBy | undefined;
    requestActor.on('out', (e) => {
      if (e.servedBy) startedBy = e.servedBy;
      queue.push(e.event);
    });
    requestActor.on('abandoned', (e) => {
      // Waiting past the time-to-first-token limit is a fault; losing a hedge race or a cancel says nothing.
      if (e.reason === 'ttft_timeout') fleet.report(e.deployment, { type: 'outcome.failure', at: now(), failureClass: 'fault', code: 'vendor_timeout' });
    });
    const outcome = new Promise<RequestOutput>((resolve) => {
      requestActor.subscribe({
        complete: () => {
          fleet.capacity.releaseOwner(owner);
          active.delete(requestActor);
          finished();
          queue.close();
          resolve(requestActor.getSnapshot().output ?? { ok: false, attempts: [], resumed: 0 });
        },
        error: (error) => {
          fleet.capacity.releaseOwner(owner);
          active.delete(requestActor);
          finished();
          const failure: Failure = { code: ErrorCode.Internal, message: error instanceof Error ? error.message : String(error), retryable: false };
          queue.push({ type: 'error', error: failure });
          queue.close();
          resolve({ ok: false, attempts: [], resumed: 0, failure });
        },
      });
    });
    const onAbort = () => requestActor.send({ type: 'cancel' });
    requestOptions.signal?.addEventListener('abort', onAbort, { once: true });
    void outcome.then(() => requestOptions.signal?.removeEventListener('abort', onAbort));
    active.add(requestActor);
    requestActor.start();
    if (requestOptions.signal?.aborted) requestActor.send({ type: 'cancel' });
    return Object.assign(queue, { outcome, startedBy: () => startedBy });
  }

  return {
    fleet,
    stream: (request, requestOptions = {}) => start(request, requestOptions),
    async complete(request, requestOptions = {}) {
      const stream = start(request, requestOptions);
      const events: StreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const result = await stream.outcome;
      if (!result.ok || !result.servedBy) throw new RequestFailedError(result.failure ?? { code: ErrorCode.Internal, message: 'no answer', retryable: false });
      return { response: assemble(events, result.servedBy.model), servedBy: result.servedBy, attempts: result.attempts.length, resumed: result.resumed };
    },
    activeRequests: () => active.size,
    retriesGranted: () => budget.retriesGranted(),
    hedges: () => Object.fromEntries([...hedgeBudgets].map(([useCase, b]) => [useCase, b.counts()])),
    lifecycle: () => {
      const value = router.getSnapshot().value;
      return value === 'starting' ? 'serving' : value;
    },
    async drain(graceMs) {
      const stopped = new Promise<void>((resolve) => {
        // With nothing in flight the router stops within the send below; subscribe first, and
        // check, so an actor that has already finished does not leave us waiting forever.
        if (router.getSnapshot().status === 'done') return resolve();
        router.subscribe({ complete: () => resolve() });
      });
      // The requests in flight are counted here (`active`); the machine hears of each end only while it drains.
      router.send({ type: 'drain', graceMs, inFlight: active.size });
      await stopped;
    },
    async stop() {
      for (const actor of active) actor.send({ type: 'cancel' });
      router.send({ type: 'stop' });
      fleet.stop();
      if (!deps.dispatcher) await dispatcher.close();
    },
  };
}

/** A whole response from a stream's canonical events. */
export function assemble(events: readonly StreamEvent[], model: string): CanonicalResponse {
  const blocks = new Map<number, ContentBlock>();
  const toolJson = new Map<number, string>();
  let id = '';
  let end: Extract<StreamEvent, { type: 'end' }> | undefined;
  let usage = { inputTokens: 0, outputTokens: 0 };
  for (const event of events) {
    if (event.type === 'start') id = event.id;
    if (event.type === 'usage') usage = Object.assign({}, usage, event.usage);
    if (event.type === 'end') end = event;
    if (event.type !== 'delta') continue;
    const existing = blocks.get(event.index);
    if (event.delta.type === 'text') {
      blocks.set(event.index, { type: 'text', text: (existing?.type === 'text' ? existing.text : '') + event.delta.text });
    } else {
      const call = existing?.type === 'tool_call' ? existing : { type: 'tool_call' as const, id: event.delta.id ?? '', name: event.delta.name ?? '', arguments: {} };
      blocks.set(event.index, { ...call, id: event.delta.id ?? call.id, name: event.delta.name ?? call.name });
      toolJson.set(event.index, (toolJson.get(event.index) ?? '') + event.delta.argumentsJson);
    }
  }
  for (const [index, json] of toolJson) {
    const block = blocks.get(index);
    if (block?.type === 'tool_call') block.arguments = json ? (JSON.parse(json) as Record<string, unknown>) : {};
  }
  const content = [...blocks.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, b]) => b)
    .filter((b): b is CanonicalResponse['content'][number] => b.type === 'text' || b.type === 'tool_call');
  return {
    id,
    model,
    content,
    stopReason: end?.stopReason ?? 'end_turn',
    ...(end?.stopSequence ? { stopSequence: end.stopSequence } : {}),
    usage,
  };
}
