/**
 * Validates data against the config schema: the resolved config, or a ConfigError naming every
 * offending field. All or nothing, so a bad reload can keep the config it had.
 */
import { ConfigError } from '../domain/index.js';
import { fromZodIssues } from './issues.js';
import { ConfigSchema, type Config } from './schema.js';

/** Top-level `x-` keys hold YAML anchors for reuse (as in compose files); they are not config. */
export const EXTENSION_KEY = /^x-/;

export function parseConfig(data: unknown, source?: string): Config {
  const result = ConfigSchema.safeParse(withoutExtensions(data), { reportInput: true });
  if (!result.success) throw new ConfigError(fromZodIssues(result.error.issues), source);
  return result.data;
}

function withoutExtensions(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data).filter(([key]) => !EXTENSION_KEY.test(key)));
}
