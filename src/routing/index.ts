/**
 * routing: pure route resolution and the selection strategies (Sequence, LoadBalanced,
 * LatencyBased, nesting, Fallback, Spill, panic) over a snapshot of deployment views.
 * Imports src/domain and src/config; no I/O, no clock but what it is given.
 */
export { crossModelFallbacks, environmentsOf, resolveRoute, writtenUseCases } from './route-table.js';
export { planRequest } from './plan.js';
export type { Candidate, PlanContext } from './plan.js';
export { HEALTH_STATES, hasCapacity, isAvailable } from './view.js';
export type { DeploymentView, HealthState, ViewLookup } from './view.js';
export { PRIOR_TOKENS_PER_SECOND, PRIOR_TTFT_MS, predictedLatencyMs } from './latency.js';
