/**
 * routing: pure route resolution (and, with the router, the selection strategies) over the
 * resolved config and deployment snapshots. Imports src/domain and src/config; no I/O.
 */
export { crossModelFallbacks, environmentsOf, resolveRoute, writtenUseCases } from './route-table.js';
