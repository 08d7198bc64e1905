/**
 * redundancy: the single-point-of-failure report (docs/design.md §9) over a resolved config, and
 * its table for people. Pure; imports src/domain, src/config and src/routing.
 */
export { CRITERIA, redundancyReport } from './report.js';
export type { Criterion, RedundancyRow } from './report.js';
export { formatReport } from './format.js';
export type { Floors } from './floors.js';
