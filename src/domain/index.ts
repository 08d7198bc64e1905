/**
 * domain: the vocabulary (DESIGN.md section 1) and the typed errors. A leaf: imports nothing of ours,
 * and everything may import it.
 */
export * from './vocabulary.js';
export * from './errors.js';
