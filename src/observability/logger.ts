/**
 * One way to make a logger: pino, JSON lines to stdout by default (or to the stream given), with a
 * fixed, code-owned list of paths redacted, so a credential or a prompt that reaches a log call by
 * mistake still never reaches the log. Components take a child logger with their own bindings.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Anything that could carry a secret or a caller's words, wherever it sits in a log object. */
export const REDACTED_PATHS = [
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  'token',
  '*.token',
  'seed',
  '*.seed',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'messages',
  '*.messages',
  'system',
  '*.system',
  'prompt',
  '*.prompt',
];

export interface LoggerOptions {
  level?: string;
  /** Where the lines go; stdout when absent. */
  destination?: DestinationStream;
  /** Fields on every line, e.g. { node: 'router-1' }. */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? {},
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** For code run without a logger (tests, libraries): says nothing, costs nothing. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
