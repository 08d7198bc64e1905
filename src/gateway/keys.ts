/**
 * The gateway's API keys: who a bearer of a key is. Keys are compared by their SHA-256 only, so
 * the config (and a heap dump of the gateway) never holds one, and a lookup is one hash and one
 * map read whatever the number of keys.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyEntry, GatewayConfig } from '../config/index.js';
import { UsageError } from '../domain/index.js';

export interface KeyHolder extends ApiKeyEntry {
  /** The key's name in the config: what logs and errors may show. */
  name: string;
}

/** Keys are `sk-sy-` and 32 random bytes in base64url: 256 bits, so the unsalted hash is safe. */
const KEY_PREFIX = 'sk-sy-';
/** Longer than any key we issue by far; a longer header is not worth hashing. */
const MAX_KEY_LENGTH = 256;

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function newApiKey(): { key: string; sha256: string } {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, sha256: hashKey(key) };
}

export class ApiKeys {
  private readonly byHash = new Map<string, KeyHolder>();

  /** `extra` (a keys file, dev's key) may neither rename nor replace a key of the config: each is refused. */
  constructor(gateway: GatewayConfig, extra: Record<string, ApiKeyEntry> = {}) {
    const names = new Set<string>();
    for (const [name, entry] of [...Object.entries(gateway.apiKeys), ...Object.entries(extra)]) {
      const other = this.byHash.get(entry.sha256);
      if (names.has(name) || other) {
        throw new UsageError(`API key "${name}" clashes with ${other ? `key "${other.name}", which has the same hash` : 'another key of that name'}`, 'Give each key its own name and its own key, in the config and the --api-keys file together.');
      }
      names.add(name);
      this.byHash.set(entry.sha256, { ...entry, name });
    }
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The holder of a presented key, or undefined for a wrong one. */
  find(key: string | undefined): KeyHolder | undefined {
    if (key === undefined || key.length === 0 || key.length > MAX_KEY_LENGTH) return undefined;
    return this.byHash.get(hashKey(key));
  }
}

/**
 * The key a request presents: OpenAI's clients send `Authorization: Bearer`, Anthropic's send
 * `x-api-key`; either works on either endpoint, as a gateway's users mix SDKs.
 */
export function presentedKey(headers: { authorization?: string | undefined; 'x-api-key'?: string | string[] | undefined }): string | undefined {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey.trim();
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return bearer?.[1];
}
