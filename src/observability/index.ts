/**
 * observability: the pino logger (JSON lines, secrets and message contents redacted) and warnings
 * that a flood cannot turn into a log flood. Imports src/domain and src/config; actors/, the
 * vendors, transport, gateway and cli may import it.
 */
export { createLogger, REDACTED_PATHS, silentLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { ThrottledWarnings } from './throttled-warnings.js';
