/** A credential that is not where the config says: every adapter fails typed, before any request leaves. */
import { describe, expect, it } from 'vitest';
import { CredentialsMissingError } from '../../src/domain/index.js';
import { createAdapter, createVendorDispatcher } from '../../src/vendors/index.js';
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
