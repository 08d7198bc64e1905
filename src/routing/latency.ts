/**
 * Predicted latency of a request on a deployment: time to first token plus the expected output at
 * its token rate, times the requests already waiting there (Finagle's Peak EWMA × (pending + 1),
 * over time to first token and throughput rather than whole-request time, since answers differ in
 * length).
 */
import type { DeploymentView } from './view.js';

/** Priors for a deployment never measured: optimistic enough that it gets tried and measured. */
export const PRIOR_TTFT_MS = 500;
export const PRIOR_TOKENS_PER_SECOND = 60;

export function predictedLatencyMs(view: DeploymentView, expectedOutputTokens: number): number {
  const ttft = view.ttftMs ?? PRIOR_TTFT_MS;
  const rate = view.tokensPerSecond ?? PRIOR_TOKENS_PER_SECOND;
  const alone = ttft + (expectedOutputTokens / Math.max(rate, 1)) * 1000;
  // With a known capacity the headroom filter already stops piling on, and below its concurrency a
  // vendor answers our next request no slower for the ones we have there: weighting by in-flight
  // then only spreads load onto slower deployments. Without one, in-flight is the only brake.
  return Number.isFinite(view.headroom) ? alone : alone * (view.inFlight + 1);
}
