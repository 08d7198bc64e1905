/**
 * The two actors a request machine invokes, made real: `choose` plans over the fleet's live views
 * and takes from the retry budget; `attempt` streams from a vendor adapter, forwards every event,
 * and reports the outcome to the deployment's health machine. Stopping an attempt aborts its
 * upstream call at once.
 */
import { fromCallback, fromPromise, type AnyEventObject } from 'xstate';
import type { Config } from '../src/config/index.js';
import { CredentialsMissingError, ErrorCode, InvalidRequestError, VendorError, type CanonicalRequest } from '../src/domain/index.js';
import { planRequest, resolveRoute } from '../src/routing/index.js';
import type { VendorAdapter } from '../src/vendors/index.js';
import type { AttemptError, AttemptInput, ChooseInput, ChooseOutput } from '../machines/request.machine.js';
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
}

/** The output length a latency prediction assumes: what the caller allows, capped at a typical answer. */
function expectedOutputTokens(request: CanonicalRequest): number {
  return Math.min(request.maxTokens, 300);
}

export function chooseActor(scope: RequestScope) {
  return fromPromise<ChooseOutput, ChooseInput>(({ input }) => {
    const { config, fleet } = scope;
    const model = input.request.model;
    if (!resolveRoute(config, model, scope.environment, scope.useCase)) return Promise.resolve({ kind: 'none', reason: 'no_route' } as const);
    if (input.retry && !scope.budget.tryRetry()) return Promise.resolve({ kind: 'none', reason: 'retry_budget' } as const);
    let plan = planRequest(model, {
      views: fleet.views(),
      now: fleet.now(),
      random: scope.random,
      excluded: new Set(input.tried),
      expectedOutputTokens: expectedOutputTokens(input.request),
      routeOf: (m) => resolveRoute(config, m, scope.environment, scope.useCase),
      fallbackOf: (m) => config.models[m]?.fallback,
    });
    // A resumed stream continues the same answer, so only deployments that take a prefill will do.
    if (input.resume) plan = plan.filter((c) => fleet.takesPrefill(c.deployment));
    const [first, ...rest] = plan;
    if (!first) return Promise.resolve({ kind: 'none', reason: 'exhausted' } as const);
    fleet.takeProbe(first.deployment);
    const choice = (c: typeof first) => ({ ...c, prefill: fleet.takesPrefill(c.deployment), p95TtftMs: fleet.p95TtftMs(c.deployment) });
    const hedge = rest.find((c) => c.model === first.model && c.via !== 'panic');
    return Promise.resolve({ kind: 'candidate', candidate: choice(first), hedge: hedge ? choice(hedge) : undefined } as const);
  });
}

export function attemptActor(scope: RequestScope) {
  return fromCallback<AnyEventObject, AttemptInput>(({ input, sendBack }) => {
    const { fleet } = scope;
    const controller = new AbortController();
    const deployment = fleet.deployment(input.candidate.deployment);
    const adapter = deployment ? scope.adapters.get(deployment.vendorRegion) : undefined;
    if (!deployment || !adapter) {
      sendBack({ type: 'attempt.failed', attemptId: input.attemptId, error: { code: ErrorCode.Internal, message: `no adapter for ${input.candidate.deployment}`, failureClass: 'config', retryable: true } });
      return () => {};
    }
    fleet.begin(deployment.id);
    void (async () => {
      try {
        const stream = await adapter.stream({ ...input.request, model: deployment.model }, { deployment, signal: controller.signal, idleTimeoutMs: scope.idleTimeoutMs });
        for await (const event of stream) sendBack({ type: 'attempt.event', attemptId: input.attemptId, event });
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
        fleet.end(deployment.id);
      }
    })();
    return () => controller.abort();
  });
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
