/**
 * The two actors a request machine invokes, made real (and `chooseAtOnce`, the first round of
 * `choose` made before the machine starts): `choose` plans over the fleet's live views,
 * takes from the retry budget, and admits the request on the first candidate with capacity
 * (waiting briefly, by priority, when none has any); `attempt` streams from a vendor adapter,
 * forwards every event, reports the outcome to the deployment's health machine, and releases its
 * reservation exactly once: as the answer ends, or, if cut short, when its aborted call settles
 * (the vendor counts it until then). Stopping an attempt aborts its upstream call.
 */
import { fromCallback, fromPromise, type AnyEventObject } from 'xstate';
import type { Config } from '../src/config/index.js';
import { estimatedTokens, type AdmitResult, type Reservation, type TenantLimits } from '../src/capacity/index.js';
import { CredentialsMissingError, ErrorCode, InvalidRequestError, VendorError, type CanonicalRequest, type Priority, type Usage } from '../src/domain/index.js';
import { planRequest, resolveRoute, type Candidate, type ViewLookup } from '../src/routing/index.js';
import { STOPPED, type VendorAdapter } from '../src/vendors/index.js';
import type { AttemptError, AttemptInput, CandidateChoice, ChooseInput, ChooseOutput } from '../machines/request.machine.js';
import type { CapacityQueue } from './capacity-queue.js';
import type { TenantDoor } from './tenant-door.js';
import { CrawlGuard } from './crawl-guard.js';
import type { HedgeBudget } from './hedge-budget.js';
import type { Fleet } from './fleet.js';
import type { RetryBudget } from './retry-budget.js';

export interface RequestScope {
  config: Config;
  fleet: Fleet;
  budget: RetryBudget;
  adapters: ReadonlyMap<string, VendorAdapter>;
  environment: string;
  useCase: string;
  random: () => number;
  /** Longest wait between two chunks once a stream flows. */
  idleTimeoutMs: number;
  /** Whom capacity is reserved for: the pool of the use case, the priority, the tenant. */
  pool: string;
  priority: Priority;
  tenant: TenantLimits;
  /** The request's key in the ledger: whatever it still holds is released when it ends. */
  owner: string;
  queue: CapacityQueue;
  /** Where a tenant refused for its share is turned away until it has room again. */
  door: TenantDoor;
  queueWaitMs: number;
  /** Whether the caller can send the request to another node: refused here where a peer has room, it is handed back. */
  mayHandBack: boolean;
  /** The use case's hedge budget; without one (hedging forced on by a caller) hedges are not capped. */
  hedgeBudget?: HedgeBudget | undefined;
  /** Set by `chooseAtOnce` when its round found no room: the machine's `choose` waits from it. */
  refusedAtOnce?: Refused | undefined;
}

/** The output length a latency prediction assumes: what the caller allows, capped at a typical answer. */
function expectedOutputTokens(request: CanonicalRequest): number {
  return Math.min(request.maxTokens, 300);
}

/** The scope the router system put in the request machine's input. */
const scopeOf = (input: { scope?: unknown }): RequestScope => input.scope as RequestScope;

/** A round of choosing that found no room anywhere: the request waits, or is turned away, by this. */
type Wait = { kind: 'wait'; refused: Refused };

/**
 * One round of choosing: plan over the fleet's live views and admit on the first candidate with
 * room. Synchronous, so the router system makes most requests' first choice before their machine
 * starts (`chooseAtOnce`); only a request that must wait for capacity goes on in `chooseActor`.
 */
function chooseRound(scope: RequestScope, input: ChooseInput, again: boolean): ChooseOutput | Wait {
  const { config, fleet } = scope;
  const model = input.request.model;
  const views = fleet.viewLookup();
  let plan = planRequest(model, {
    views,
    now: fleet.now(),
    random: scope.random,
    excluded: new Set(input.tried),
    expectedOutputTokens: expectedOutputTokens(input.request),
    routeOf: (m) => resolveRoute(config, m, scope.environment, scope.useCase),
    fallbackOf: (m) => config.models[m]?.fallback,
  });
  // A resumed stream continues the same answer, so only deployments that take a prefill will do.
  if (input.resume) plan = plan.filter((c) => fleet.takesPrefill(c.deployment));
  if (plan.length === 0) return { kind: 'none', reason: 'exhausted' };
  // Only a request that has not been anywhere yet may be handed back: nothing to undo.
  const untried = !again && !input.retry && !input.resume && input.tried.length === 0;
  const admitted = admitFirst(scope, plan, views, estimatedTokens(input.request), again, untried && scope.mayHandBack);
  if ('candidate' in admitted) {
    const { candidate: first, reservation } = admitted;
    fleet.takeProbe(first.deployment);
    // Copies by Object.assign: a spread followed by fields is slow on Node 20 (docs/architecture.md, "The hot path").
    const choice = (c: Candidate, extra: Partial<CandidateChoice>): CandidateChoice => Object.assign({}, c, { prefill: fleet.takesPrefill(c.deployment) }, extra);
    // A hedge is offered only while the budget could pay for it, so a spent budget costs no deployment its turn.
    const hedge = scope.hedgeBudget?.affordable() === false ? undefined : plan.find((c) => c !== first && c.model === first.model && c.via !== 'panic');
    // The first attempt's p95 is when a hedge would start; without a hedge nobody reads it (a sort of its samples per request).
    const p95TtftMs = hedge ? fleet.p95TtftMs(first.deployment) : undefined;
    return { kind: 'candidate', candidate: choice(first, { p95TtftMs, reservation: reservation.id }), hedge: hedge ? choice(hedge, { hedge: true }) : undefined };
  }
  // Queue-group delivery is random, so one node fills its part while a peer's sits idle: rather
  // than wait for a seat here, the caller sends the request again, and it lands elsewhere.
  if (admitted.elsewhere) return { kind: 'none', reason: 'handed_back', ...(admitted.peer !== undefined ? { peer: admitted.peer } : {}) };
  return { kind: 'wait', refused: admitted };
}

/** Whether the request is routable at all, and may be retried: the checks before any round. */
function preconditions(scope: RequestScope, input: ChooseInput): ChooseOutput | undefined {
  if (!resolveRoute(scope.config, input.request.model, scope.environment, scope.useCase)) return { kind: 'none', reason: 'no_route' };
  if (input.retry && !scope.budget.tryRetry()) return { kind: 'none', reason: 'retry_budget' };
  return undefined;
}

/**
 * The first choice of a new request, made before its machine starts (RequestInput.chosen), or
 * undefined when it must wait for capacity: then the machine's `choose` waits, from the refusal
 * this round met (`scope.refusedAtOnce`), so no refusal is counted twice.
 */
export function chooseAtOnce(scope: RequestScope, request: CanonicalRequest): ChooseOutput | undefined {
  const input: ChooseInput = { request, tried: [], retry: false, resume: false, scope };
  let round: ChooseOutput | Wait;
  try {
    round = preconditions(scope, input) ?? chooseRound(scope, input, false);
  } catch {
    // A fault of ours: the machine's `choose` meets it again and ends the request `internal`.
    return undefined;
  }
  if (round.kind !== 'wait') return round;
  scope.refusedAtOnce = round.refused;
  return undefined;
}

export const chooseActor = fromPromise<ChooseOutput, ChooseInput>(async ({ input, signal }) => {
  const scope = scopeOf(input);
  const { fleet } = scope;
  const early = preconditions(scope, input);
  if (early) return early;
  const waitUntil = fleet.now() + scope.queueWaitMs;
  // A first round already made at once, and refused: this one starts by waiting on it.
  const refusedAtOnce = scope.refusedAtOnce;
  scope.refusedAtOnce = undefined;
  for (let again = false; ; again = true) {
    const round: ChooseOutput | Wait = refusedAtOnce && !again ? { kind: 'wait', refused: refusedAtOnce } : chooseRound(scope, input, again);
    if (round.kind !== 'wait') return round;
    const admitted = round.refused;
    // A tenant over its share waits for nothing: the others' traffic is what it would wait behind.
    // Woken for a seat its tenant may not take, a request hands the wake-up on, so no one else misses the seat.
    // Held back by this node's part of its tenant's share, it waits for that tenant's own seats.
    if (admitted.tenantBound && again) scope.queue.released();
    const outcome = admitted.overShare ? 'timeout' : await scope.queue.wait(scope.priority, waitUntil - fleet.now(), signal, admitted.tenantBound ? scope.tenant.name : undefined);
    if (outcome === 'woken') continue;
    if (admitted.overShare) scope.door.close(scope.pool, scope.tenant.name, { code: ErrorCode.RateLimited, message: admitted.message, retryable: true, retryAfterMs: admitted.retryAfterMs });
    return { kind: 'none', reason: 'capacity', message: admitted.message, retryAfterMs: admitted.retryAfterMs };
  }
});

type Admitted = { candidate: Candidate; reservation: Reservation } | Refused;

/**
 * Refused: `overShare` when only the tenant's share stood in the way, `tenantBound` when only the
 * tenant (its share, or this node's part of it) did, `elsewhere` when a peer has room.
 */
export interface Refused {
  message: string;
  retryAfterMs: number;
  overShare: boolean;
  tenantBound: boolean;
  elsewhere: boolean;
  /** The peer with room, by name. */
  peer?: string | undefined;
}

/**
 * Admits the request on the first candidate in plan order that has room, so a full deployment is
 * skipped (never sent a request its vendor would refuse) and the next, a spill or the fallback
 * model, takes it. A deployment whose vendor asked us to wait is skipped until its retry-after.
 */
function admitFirst(scope: RequestScope, plan: readonly Candidate[], views: ViewLookup, tokens: number, again: boolean, handBack: boolean): Admitted {
  const { fleet } = scope;
  const now = fleet.now();
  let retryAfterMs = Infinity;
  let elsewhere = false;
  let peer: string | undefined;
  let overShare = true;
  let tenantBound = true;
  const reasons = new Set<string>();
  for (const candidate of plan) {
    // The views the plan was made from: no second look per candidate.
    const throttledUntil = views.get(candidate.deployment)?.throttledUntil;
    let result: AdmitResult | { ok: false; refusal: 'throttled'; retryAfterMs: number };
    if (throttledUntil !== undefined && throttledUntil > now) {
      result = { ok: false, refusal: 'throttled', retryAfterMs: throttledUntil - now };
    } else {
      result = fleet.capacity.admit({ deployment: candidate.deployment, pool: scope.pool, priority: scope.priority, tenant: scope.tenant, tokens, owner: scope.owner, again, handBack });
    }
    if (result.ok) return { candidate, reservation: result.reservation };
    if ('elsewhere' in result && result.elsewhere) {
      elsewhere = true;
      peer ??= result.peer;
    }
    retryAfterMs = Math.min(retryAfterMs, result.retryAfterMs);
    if (result.refusal !== 'tenant') overShare = false;
    if (result.refusal !== 'tenant' && result.refusal !== 'tenant_share') tenantBound = false;
    reasons.add(result.refusal);
  }
  const why = tenantBound ? `tenant ${scope.tenant.name} holds its share (${scope.tenant.maxShare} %) of pool ${scope.pool}` : `no deployment has capacity for pool ${scope.pool} at priority ${scope.priority} (${[...reasons].join(', ')})`;
  return { message: why, retryAfterMs: Math.ceil(Number.isFinite(retryAfterMs) ? retryAfterMs : 1000), overShare, tenantBound, elsewhere, peer };
}

export const attemptActor = fromCallback<AnyEventObject, AttemptInput>(({ input, sendBack }) => {
  const scope = scopeOf(input);
  const { fleet } = scope;
  const controller = new AbortController();
  const deployment = fleet.deployment(input.candidate.deployment);
  const adapter = deployment ? scope.adapters.get(deployment.vendorRegion) : undefined;
  if (!deployment || !adapter) {
    sendBack({ type: 'attempt.failed', attemptId: input.attemptId, error: { code: ErrorCode.Internal, message: `no adapter for ${input.candidate.deployment}`, failureClass: 'config', retryable: true } });
    return () => {};
  }
  if (input.candidate.hedge && scope.hedgeBudget && !scope.hedgeBudget.take()) {
    const error: AttemptError = { code: ErrorCode.RateLimited, message: 'the hedge budget is spent', failureClass: 'capacity', retryable: true };
    sendBack({ type: 'attempt.failed', attemptId: input.attemptId, error });
    return () => {};
  }
  const reservation = reserve(scope, input);
  if (!('id' in reservation)) {
    sendBack({ type: 'attempt.failed', attemptId: input.attemptId, error: reservation });
    return () => {};
  }
  fleet.capacity.claim(reservation);
  const release = () => fleet.capacity.release(reservation);
  let ended = false;
  void (async () => {
    try {
      const stream = await adapter.stream(Object.assign({}, input.request, { model: deployment.model }), { deployment, signal: controller.signal, idleTimeoutMs: scope.idleTimeoutMs });
      // The vendor's rate-limit headers arrived with the response: heard now, before the next
      // request is admitted, not when this stream ends.
      fleet.capacity.heard(deployment.id, stream.metrics.capacity);
      const used = { input: 0, output: 0 };
      let usage: Partial<Usage> | undefined;
      const crawl = new CrawlGuard(fleet.tokensPerSecond(deployment.id), scope.config.crawlGuard, fleet.now);
      let crawlReported = false;
      for await (const event of stream) {
        const crawling = crawlReported ? undefined : crawl.observe(event);
        if (crawling !== undefined) {
          crawlReported = true;
          fleet.report(deployment.id, { type: 'outcome.crawl', at: fleet.now() });
          // Where the answer can resume elsewhere, it does; elsewhere it finishes as it is.
          if (input.candidate.prefill) {
            const message = `the stream crawled at ${crawling.toFixed(1)} tokens/s, far below ${deployment.id}'s usual pace`;
            fleet.report(deployment.id, { type: 'outcome.failure', at: fleet.now(), failureClass: 'fault', code: ErrorCode.VendorTimeout });
            controller.abort(STOPPED);
            sendBack({ type: 'attempt.failed', attemptId: input.attemptId, error: { code: ErrorCode.VendorTimeout, message, failureClass: 'fault', retryable: true } });
            return;
          }
        }
        if (event.type === 'usage') {
          used.input = event.usage.inputTokens ?? used.input;
          used.output = event.usage.outputTokens ?? used.output;
          // Told with the next event, which every stream has (its end at the latest).
          usage = usage ? Object.assign({}, usage, event.usage) : event.usage;
          continue;
        }
        // The end may stop this attempt (and release it) before the loop goes on: settle first.
        if (event.type === 'end') {
          ended = true;
          fleet.capacity.settle(reservation, used.input + used.output);
        }
        // The vendor's own `start` changes nothing in the request machine, which makes the caller's.
        if (event.type === 'start') continue;
        sendBack(usage ? { type: 'attempt.event', attemptId: input.attemptId, event, usage } : { type: 'attempt.event', attemptId: input.attemptId, event });
        usage = undefined;
      }
      const metrics = stream.metrics;
      fleet.report(deployment.id, { type: 'outcome.success', at: fleet.now(), ttftMs: metrics.timeToFirstTokenMs, tokensPerSecond: metrics.tokensPerSecond });
    } catch (error) {
      // Stopped by the request machine (it won elsewhere, timed out or was cancelled): it reports why.
      if (controller.signal.aborted) return;
      const failure = attemptError(error);
      if (error instanceof CredentialsMissingError) fleet.markUnusable(deployment.vendorRegion, error.message);
      if (error instanceof VendorError) {
        fleet.report(
          deployment.id,
          { type: 'outcome.failure', at: fleet.now(), failureClass: error.failureClass, code: error.code, persistent: error.persistent, retryAfterMs: error.retryAfterMs },
          error.scope,
        );
      }
      sendBack({ type: 'attempt.failed', attemptId: input.attemptId, error: failure });
    } finally {
      release();
    }
  })();
  return () => {
    // An answer that ended is done at the vendor too, and its stream closes itself as the loop
    // above reads on: aborting it would only run undici's abort path for a finished call (about
    // 3 % of a node's CPU). One cut short (a hedge that lost, a cancel) is aborted, and still
    // holds its seat at the vendor until the connection closes: released when the call settles.
    if (ended) release();
    else controller.abort(STOPPED);
  };
});

/** The reservation choose made for this attempt, or a new one (a hedge is admitted as it starts). */
function reserve(scope: RequestScope, input: AttemptInput): Reservation | AttemptError {
  const held = input.candidate.reservation ? scope.fleet.capacity.held(input.candidate.reservation) : undefined;
  if (held) return held;
  const result = scope.fleet.capacity.admit({
    deployment: input.candidate.deployment,
    pool: scope.pool,
    priority: scope.priority,
    tenant: scope.tenant,
    tokens: estimatedTokens(input.request),
    owner: scope.owner,
  });
  if (result.ok) return result.reservation;
  return { code: ErrorCode.RateLimited, message: `no capacity on ${input.candidate.deployment} (${result.refusal})`, failureClass: 'capacity', retryable: true, retryAfterMs: result.retryAfterMs };
}

/**
 * The machine's view of a failure. The request's own mistakes end it at once (no other deployment
 * would take it either); a missing credential is ours and fails over; only an error nobody
 * classified is `internal`, and it too fails over, since another vendor-region may not share it.
 */
function attemptError(error: unknown): AttemptError {
  if (error instanceof VendorError) {
    return { code: error.code, message: error.message, failureClass: error.failureClass, retryable: error.retryable, retryAfterMs: error.retryAfterMs };
  }
  if (error instanceof InvalidRequestError) return { code: error.code, message: error.message, failureClass: 'caller', retryable: false, field: error.field };
  if (error instanceof CredentialsMissingError) return { code: error.code, message: error.message, failureClass: 'config', retryable: true };
  return { code: ErrorCode.Internal, message: error instanceof Error ? error.message : String(error), failureClass: 'fault', retryable: true };
}
