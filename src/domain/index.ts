/**
 * domain: the vocabulary (docs/design.md §1), the canonical request, response and stream events,
 * and the typed errors. A leaf: imports nothing of ours (zod only), and everything may import it.
 */
export * from './vocabulary.js';
export * from './errors.js';
export * from './failure.js';
export * from './vendor-error.js';
export * from './canonical.js';
export * from './limits.js';
export * from './deltas.js';
