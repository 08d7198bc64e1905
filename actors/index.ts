/**
 * actors: the machines of machines/ wired to the world: the fleet's health actors, the request
 * actors' `choose` and `attempt` (vendor adapters), the retry budget, and `createRouterSystem`.
 * May import machines/ and src/ except src/gateway, src/cli and src/app; src/app and src/cli import it.
 */
export { createRouterSystem, assemble } from './router-system.js';
export type { RequestOptions, Routed, RoutedStream, RouterSystem, RouterSystemDeps, RouterSystemOptions } from './router-system.js';
export { Fleet } from './fleet.js';
export { RetryBudget, DEFAULT_RETRY_BUDGET } from './retry-budget.js';
