/**
 * A config fit to print: credential sources say whether they resolve (never what they hold), URLs
 * lose any password, and any field named like a secret is masked. A config never holds a literal
 * secret by schema, but printing is where a leak would hurt, so this does not rely on that.
 */
import type { Config } from './schema.js';

const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|credential|private/i;
const MASK = '****';

export interface SecretStatus {
  /** Whether the variable is set, or the file exists; decided by the caller, who may read the environment. */
  isAvailable(source: { env: string } | { file: string }): boolean;
}

export function maskConfig(config: Config, status: SecretStatus): unknown {
  const vendorRegions = Object.fromEntries(
    Object.entries(config.vendorRegions).map(([id, vr]) => [
      id,
      {
        ...vr,
        baseUrl: maskUrl(vr.baseUrl),
        credentials: Object.fromEntries(
          Object.entries(vr.credentials).map(([name, source]) => [name, source && { ...source, available: status.isAvailable(source) }]),
        ),
      },
    ]),
  );
  return maskFields({ ...config, vendorRegions }, false);
}

function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password && !parsed.username) return url;
    parsed.username = parsed.username ? MASK : '';
    parsed.password = parsed.password ? MASK : '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Masks string values under secret-looking keys, except inside credential sources (names, not secrets). */
function maskFields(value: unknown, underCredentials: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => maskFields(v, underCredentials));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => {
      if (key === 'credentials') return [key, maskFields(v, true)];
      if (!underCredentials && typeof v === 'string' && SECRET_KEY.test(key)) return [key, MASK];
      return [key, maskFields(v, underCredentials)];
    }),
  );
}
