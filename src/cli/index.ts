/**
 * cli: the `switchyard` commands as functions of their arguments and a CliIo, so tests run them
 * in-process. May import every src/ folder except src/app; only src/app imports it.
 */
export { checkInvocation, runCli, VERSION } from './main.js';
export { ExitCode } from './io.js';
export type { CliIo } from './io.js';
