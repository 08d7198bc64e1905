/**
 * The `gateway` section: the API keys the HTTP gateway accepts. A key is stored only as its
 * SHA-256 (keys are long random strings, so a fast hash is enough: there is no password to guess),
 * and each maps to the tenant it runs for, the use cases it may speak as (the first is its
 * default) and the highest priority it may claim. `switchyard gateway key` makes a key and its entry.
 */
import { z } from 'zod';
import { PRIORITIES } from '../domain/index.js';
import { ModelNameSchema, UseCaseNameSchema } from './route-schema.js';
import type { ReferenceIssue } from './references.js';

export const ApiKeySchema = z
  .strictObject({
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, { error: 'expected the SHA-256 of the key as 64 lowercase hex digits (never the key itself); `switchyard gateway key` prints one' })
      .describe('SHA-256 of the key, hex'),
    tenant: z.string().min(1).optional().describe('Tenant its requests run for; capacity.defaultTenant when absent'),
    useCases: z.array(UseCaseNameSchema).min(1).default(['otherwise']).describe('Use cases it may speak as; the first is used unless the x-switchyard-use-case header names another'),
    maxPriority: z.enum(PRIORITIES).default('standard').describe('Highest priority its requests may claim (x-switchyard-priority asks within it)'),
    models: z.array(ModelNameSchema).min(1).optional().describe('Logical models it may ask for; every model when absent'),
  })
  .describe('One API key of the HTTP gateway');

export const GatewaySchema = z
  .strictObject({
    apiKeys: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'expected a key name of 1-64 letters, digits, _ . or -' }), ApiKeySchema)
      .default({})
      .describe('Key name (shown in logs, never the key) → what the key may do'),
  })
  .superRefine((gateway, ctx) => {
    const owner = new Map<string, string>();
    for (const [name, key] of Object.entries(gateway.apiKeys)) {
      const other = owner.get(key.sha256);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['apiKeys', name, 'sha256'], message: `the same key as ${other}; give each key its own` });
      owner.set(key.sha256, name);
    }
  })
  .describe('The HTTP gateway (switchyard gateway)');

export type GatewayConfig = z.output<typeof GatewaySchema>;
export type ApiKeyEntry = z.output<typeof ApiKeySchema>;

/** Keys must name tenants and models the config knows: a typo would silently widen or break a key. */
export function checkGatewayReferences(gateway: GatewayConfig, known: { tenants: string[]; models: string[]; defaultTenant: string }): ReferenceIssue[] {
  const issues: ReferenceIssue[] = [];
  for (const [name, key] of Object.entries(gateway.apiKeys)) {
    if (key.tenant !== undefined && key.tenant !== known.defaultTenant && !known.tenants.includes(key.tenant)) {
      issues.push({ path: ['gateway', 'apiKeys', name, 'tenant'], message: `unknown tenant "${key.tenant}"; tenants: ${known.tenants.join(', ') || '(none)'}` });
    }
    for (const [index, model] of (key.models ?? []).entries()) {
      if (!known.models.includes(model)) issues.push({ path: ['gateway', 'apiKeys', name, 'models', index], message: `unknown model "${model}"; models: ${known.models.join(', ')}` });
    }
  }
  return issues;
}
