/** A credential that is not where the config says: every adapter fails typed, before any request leaves. */
import { describe, expect, it } from 'vitest';
import { CredentialsMissingError } from '../../src/domain/index.js';
import type { VendorRegion } from '../../src/config/index.js';
import { createAdapter, createVendorDispatcher } from '../../src/vendors/index.js';
import { VendorCredentials } from '../../src/vendors/credentials.js';
import { seedConfig } from '../helpers/simulator.js';

describe('missing credentials', () => {
  it('each vendor adapter rejects with CredentialsMissingError naming the vendor-region and the credential', async () => {
    const config = await seedConfig();
    const dispatcher = createVendorDispatcher({ keepAliveTimeoutMs: 10 });
    const request = { model: 'x', maxTokens: 5, messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }] };
    const seen: string[] = [];
    for (const vendorRegion of Object.values(config.vendorRegions)) {
      const adapter = createAdapter(vendorRegion, { dispatcher, secrets: () => Promise.reject(new Error('the environment variable X is not set')) });
      const deployment = Object.values(vendorRegion.deployments)[0]!;
      const error = await adapter.stream(request, { deployment }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CredentialsMissingError);
      expect((error as Error).message).toMatch(new RegExp(`^${vendorRegion.id.replace('/', '\\/')}: the \\w+ credential is not available`));
      seen.push(vendorRegion.protocol);
    }
    expect(new Set(seen)).toEqual(new Set(['anthropic', 'openai', 'azure', 'bedrock', 'vertex']));
    await dispatcher.close();
  });

  it('an empty variable for a required credential counts as missing', async () => {
    const config = await seedConfig();
    const dispatcher = createVendorDispatcher({ keepAliveTimeoutMs: 10 });
    const anthropic = config.vendorRegions.anthropic!;
    const adapter = createAdapter(anthropic, { dispatcher, secrets: () => Promise.resolve('') });
    const error = await adapter.complete({ model: 'x', maxTokens: 5, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }, { deployment: Object.values(anthropic.deployments)[0]! }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsMissingError);
    expect((error as Error).message).toContain('($ANTHROPIC_API_KEY) is empty');
    await dispatcher.close();
  });
});

describe('kept credentials', () => {
  const vendorRegion = { id: 'openai', credentials: { apiKey: { file: 'key.txt' } } } as unknown as VendorRegion;

  it('reads a credential once, then answers at once, and reads it again in the background after the refresh interval', async () => {
    let now = 0;
    let value = 'sk-first';
    const reads: string[] = [];
    const secrets = (source: { env: string } | { file: string }) => {
      reads.push(JSON.stringify(source));
      return Promise.resolve(value);
    };
    const credentials = new VendorCredentials(vendorRegion, secrets, { refreshMs: 1_000, now: () => now });
    const first = credentials.get('apiKey');
    const second = credentials.get('apiKey');
    expect(first).toBeInstanceOf(Promise);
    expect(second).toBe(first); // calls made during the first read wait on it, not on a read of their own
    expect(await first).toBe('sk-first');
    expect(credentials.get('apiKey')).toBe('sk-first');
    expect(reads).toEqual(['{"file":"key.txt"}']);

    value = 'sk-rotated';
    now = 999;
    expect(credentials.get('apiKey')).toBe('sk-first');
    expect(reads).toHaveLength(1);
    now = 1_000;
    // Due: this call still gets the kept value at once; the read it starts serves the next ones.
    expect(credentials.get('apiKey')).toBe('sk-first');
    expect(credentials.get('apiKey')).toBe('sk-first');
    expect(reads).toHaveLength(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(credentials.get('apiKey')).toBe('sk-rotated');
  });

  it('drops a credential whose refresh fails, so the next call meets the error typed', async () => {
    let now = 0;
    let gone = false;
    const secrets = () => (gone ? Promise.reject(new Error('ENOENT: key.txt')) : Promise.resolve('sk-first'));
    const credentials = new VendorCredentials(vendorRegion, secrets, { refreshMs: 1_000, now: () => now });
    expect(await credentials.get('apiKey')).toBe('sk-first');
    gone = true;
    now = 1_500;
    expect(credentials.get('apiKey')).toBe('sk-first');
    await new Promise((resolve) => setImmediate(resolve));
    const error = await Promise.resolve(credentials.get('apiKey')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsMissingError);
    expect((error as Error).message).toContain('the apiKey credential is not available: ENOENT');
  });

  it('after twice the refresh interval unused, a call waits for a fresh read instead of using a key of any age', async () => {
    let now = 0;
    let value = 'sk-first';
    let reads = 0;
    const secrets = () => {
      reads++;
      return Promise.resolve(value);
    };
    const credentials = new VendorCredentials(vendorRegion, secrets, { refreshMs: 1_000, now: () => now });
    expect(await credentials.get('apiKey')).toBe('sk-first');
    value = 'sk-rotated';
    now = 2_000;
    const fresh = credentials.get('apiKey');
    expect(fresh).toBeInstanceOf(Promise);
    expect(credentials.get('apiKey')).toBe(fresh);
    expect(await fresh).toBe('sk-rotated');
    expect(reads).toBe(2);
    expect(credentials.get('apiKey')).toBe('sk-rotated');
  });

  it('an optional credential that is not configured is empty, with no read', () => {
    const credentials = new VendorCredentials(vendorRegion, () => Promise.reject(new Error('not read')));
    expect(credentials.optional('sessionToken')).toBeInstanceOf(Promise);
    return expect(credentials.optional('sessionToken')).resolves.toBe('');
  });
});
