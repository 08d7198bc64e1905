import { describe, expect, it } from 'vitest';
import seed from '../../examples/seed.config.js';
import { ConfigError } from '../../src/domain/index.js';
import { parseConfig } from '../../src/config/index.js';

/** A fresh, mutable copy of the seed config's input data for each case. */
type Mutable = Record<string, any>;
const seedInput = (): Mutable => structuredClone(seed);

interface Case {
  name: string;
  mutate: (c: Mutable) => unknown;
  path: string;
  message: string | RegExp;
}

const CASES: Case[] = [
  {
    name: 'a route naming an undeclared vendor-region',
    mutate: (c) => (c.routes.CLAUDE_SONNET_4.us_prod.conversation_serving.LatencyBased[1] = 'bedrock/us-east-9'),
    path: 'routes.CLAUDE_SONNET_4.us_prod.conversation_serving[1]',
    message: 'unknown vendor-region "bedrock/us-east-9"; known: anthropic, bedrock/us-east-1, bedrock/us-west-2, vertex/us-east5, openai, azure/eastus',
  },
  {
    name: 'a route table for an undeclared model',
    mutate: (c) => (c.routes.CLAUDE_OPUS_9 = { test: 'anthropic' }),
    path: 'routes.CLAUDE_OPUS_9',
    message: 'unknown model; known: claude-sonnet-4 (CLAUDE_SONNET_4), gpt-4.1 (GPT_4_1)',
  },
  {
    name: 'a route sending a model to a vendor-region that does not serve it',
    mutate: (c) => (c.routes.GPT_4_1.test = { Sequence: ['openai', 'anthropic'] }),
    path: 'routes.GPT_4_1.test[1]',
    message: 'vendor-region "anthropic" has no deployment of gpt-4.1; it serves: claude-sonnet-4',
  },
  {
    name: 'a Fallback to an undeclared model',
    mutate: (c) => c.routes.CLAUDE_SONNET_4.test.Sequence.push({ Fallback: 'gpt-5' }),
    path: 'routes.CLAUDE_SONNET_4.test[2]',
    message: 'Fallback names unknown model "gpt-5"',
  },
  {
    name: 'a Fallback to the model itself',
    mutate: (c) => c.routes.CLAUDE_SONNET_4.test.Sequence.push({ Fallback: 'claude-sonnet-4' }),
    path: 'routes.CLAUDE_SONNET_4.test[2]',
    message: 'Fallback names claude-sonnet-4 itself',
  },
  {
    name: 'a Fallback cycle between two models',
    mutate: (c) => (c.models['gpt-4.1'].fallback = 'claude-sonnet-4'),
    path: 'routes',
    message: /Fallback cycle in environment us_prod, use case .*: (claude-sonnet-4 → gpt-4\.1 → claude-sonnet-4|gpt-4\.1 → claude-sonnet-4 → gpt-4\.1)/,
  },
  {
    name: 'a Spill to a model with no route for that environment',
    mutate: (c) => {
      delete c.routes.GPT_4_1.test;
      c.models['claude-sonnet-4'].fallback = undefined;
      c.routes.CLAUDE_SONNET_4.test.Sequence.push({ Spill: { model: 'gpt-4.1', percent: 10 } });
    },
    path: 'routes.CLAUDE_SONNET_4.test[2]',
    message: 'Spill to gpt-4.1, but gpt-4.1 has no route for environment test and use case otherwise; add one',
  },
  {
    name: 'a model-level fallback whose model has no route where this one has',
    mutate: (c) => delete c.routes.GPT_4_1.test,
    path: 'models.claude-sonnet-4.fallback',
    message: 'gpt-4.1 has no route for environment test and use case otherwise',
  },
  {
    name: 'a pool share of an unknown deployment',
    mutate: (c) => (c.pools.fin.shares['claude-sonnet-4@bedrock/eu-west-1'] = 10),
    path: 'pools.fin.shares.claude-sonnet-4@bedrock/eu-west-1',
    message: 'no such deployment; known:',
  },
  {
    name: 'a pool share keyed by something that is not a deployment id',
    mutate: (c) => (c.pools.fin.shares.anthropic = 10),
    path: 'pools.fin.shares.anthropic',
    message: 'not a deployment id (model@vendor-region)',
  },
  {
    name: 'pools reserving more than all of a deployment',
    mutate: (c) => (c.pools.fin.shares['claude-sonnet-4@anthropic'] = 70),
    path: 'pools',
    message: 'pools reserve 110% of claude-sonnet-4@anthropic',
  },
  {
    name: 'a use case served by two pools',
    mutate: (c) => c.pools.general.useCases.push('conversation_serving'),
    path: 'pools.general.useCases[1]',
    message: 'use case conversation_serving is already served by pool fin',
  },
  {
    name: 'a pool priority that does not exist',
    mutate: (c) => (c.pools.fin.priority = 'urgent'),
    path: 'pools.fin.priority',
    message: 'expected one of "critical", "high", "standard", "batch", got "urgent"',
  },
  {
    name: 'a vendor-region id with an unknown vendor',
    mutate: (c) => (c.vendorRegions['mistral/eu-west-1'] = { credentials: {}, deployments: {} }),
    path: 'vendorRegions.mistral/eu-west-1',
    message: 'is not a vendor-region id; expected <vendor> or <vendor>/<region> with vendor one of anthropic, openai, azure, bedrock, vertex',
  },
  {
    name: 'a regional vendor without a region',
    mutate: (c) => (c.vendorRegions.bedrock = { credentials: c.vendorRegions['bedrock/us-east-1'].credentials, deployments: {} }),
    path: 'vendorRegions.bedrock',
    message: 'bedrock has one endpoint per region; write it as bedrock/<region>',
  },
  {
    name: 'a Bedrock vendor-region missing its secret access key',
    mutate: (c) => (c.vendorRegions['bedrock/us-west-2'].credentials = { accessKeyId: { env: 'AWS_ACCESS_KEY_ID' } }),
    path: 'vendorRegions.bedrock/us-west-2.credentials.secretAccessKey',
    message: 'bedrock needs secretAccessKey',
  },
  {
    name: 'an Azure vendor-region without an api-version',
    mutate: (c) => delete c.vendorRegions['azure/eastus'].apiVersion,
    path: 'vendorRegions.azure/eastus.apiVersion',
    message: 'azure needs apiVersion',
  },
  {
    name: 'a secret written into the config',
    mutate: (c) => (c.vendorRegions.anthropic.credentials.apiKey = 'sk-ant-not-a-real-key'),
    path: 'vendorRegions.anthropic.credentials.apiKey',
    message: 'expected { env: VARIABLE_NAME } or { file: PATH }; secrets are never written in the config itself',
  },
  {
    name: 'a credential variable name that is not one',
    mutate: (c) => (c.vendorRegions.anthropic.credentials.apiKey = { env: 'anthropic api key' }),
    path: 'vendorRegions.anthropic.credentials.apiKey.env',
    message: 'expected an environment variable name such as ANTHROPIC_API_KEY',
  },
  {
    name: 'a misspelt top-level section',
    mutate: (c) => (c.routse = {}),
    path: '',
    message: 'unknown field "routse"; remove or rename it',
  },
  {
    name: 'a misspelt strategy',
    mutate: (c) => (c.routes.CLAUDE_SONNET_4.test = { LatencyBsed: ['anthropic'] }),
    path: 'routes.CLAUDE_SONNET_4.test.LatencyBsed',
    message: '"LatencyBsed": neither a strategy (LatencyBased, LoadBalanced, Sequence, Fallback, Spill) nor a use case name',
  },
  {
    name: 'a negative LoadBalanced weight',
    mutate: (c) => (c.routes.CLAUDE_SONNET_4.us_prod.otherwise = { LoadBalanced: [['anthropic', -1], 'bedrock/us-west-2'] }),
    path: 'routes.CLAUDE_SONNET_4.us_prod.otherwise[0][1]',
    message: 'expected a weight greater than 0',
  },
  {
    name: 'an empty strategy',
    mutate: (c) => (c.routes.CLAUDE_SONNET_4.us_prod.conversation_serving = { LatencyBased: [] }),
    path: 'routes.CLAUDE_SONNET_4.us_prod.conversation_serving.LatencyBased',
    message: 'expected at least 1 entries',
  },
  {
    name: 'a fractional quota',
    mutate: (c) => (c.vendorRegions.openai.deployments['gpt-4.1'].quota.rpm = 10.5),
    path: 'vendorRegions.openai.deployments["gpt-4.1"].quota.rpm',
    message: 'expected int, got number 10.5',
  },
  {
    name: 'a missing quota field',
    mutate: (c) => delete c.vendorRegions.openai.deployments['gpt-4.1'].quota.concurrency,
    path: 'vendorRegions.openai.deployments["gpt-4.1"].quota.concurrency',
    message: 'expected number, got nothing (the field is required)',
  },
  {
    name: 'a base URL that is not a URL',
    mutate: (c) => (c.vendorRegions['azure/eastus'].baseUrl = 'switchyard-example.openai.azure.com'),
    path: 'vendorRegions.azure/eastus.baseUrl',
    message: 'expected a URL such as https://api.example.com, got "switchyard-example.openai.azure.com"',
  },
  {
    name: 'a deployment of an undeclared model',
    mutate: (c) => (c.vendorRegions.anthropic.deployments['claude-opus-9'] = { vendorModelId: 'x', quota: { rpm: 1, tpm: 1, concurrency: 1 } }),
    path: 'vendorRegions.anthropic.deployments.claude-opus-9',
    message: 'unknown model "claude-opus-9"; declare it under models',
  },
  {
    name: 'a peak load for an undeclared model',
    mutate: (c) => (c.peakLoad[0].model = 'claude-opus-9'),
    path: 'peakLoad[0].model',
    message: 'unknown model "claude-opus-9"',
  },
  {
    name: 'a peak load in an environment the model is not routed in',
    mutate: (c) => (c.peakLoad[0].environment = 'eu_prod'),
    path: 'peakLoad[0].environment',
    message: 'claude-sonnet-4 has no routes in environment eu_prod; it has: us_prod, test',
  },
  {
    name: 'a peak load with neither rpm nor tpm',
    mutate: (c) => (c.peakLoad[1] = { model: 'claude-sonnet-4', useCase: 'otherwise' }),
    path: 'peakLoad[1]',
    message: 'expected rpm, tpm or both',
  },
  {
    name: 'a buffer factor below 1',
    mutate: (c) => (c.bufferFactor = 0.5),
    path: 'bufferFactor',
    message: 'expected a value >= 1',
  },
  {
    name: 'a model name with a space',
    mutate: (c) => (c.models['gpt 4'] = {}),
    path: 'models["gpt 4"]',
    message: 'expected a model name of letters, digits and . - _ :',
  },
  {
    name: 'two models a route table cannot tell apart',
    mutate: (c) => (c.models['gpt_4_1'] = {}),
    path: 'models.gpt_4_1',
    message: '"gpt_4_1" and "gpt-4.1" are both written GPT_4_1 in a route table; rename one',
  },
  {
    name: 'a vendor-region listed twice in one strategy',
    mutate: (c) => (c.routes.CLAUDE_SONNET_4.test = { Sequence: ['anthropic', 'anthropic'] }),
    path: 'routes.CLAUDE_SONNET_4.test[1]',
    message: 'vendor-region "anthropic" is listed twice in this Sequence',
  },
  {
    name: 'a use case name that cannot be a subject token',
    mutate: (c) => (c.routes.CLAUDE_SONNET_4.us_prod['conversation.serving'] = 'anthropic'),
    path: 'routes.CLAUDE_SONNET_4.us_prod["conversation.serving"]',
    message: 'neither a strategy (LatencyBased, LoadBalanced, Sequence, Fallback, Spill) nor a use case name (lowercase letters, digits, _ and -)',
  },
  {
    name: 'a redundancy override for an undeclared model',
    mutate: (c) => (c.redundancy = { overrides: [{ model: 'claude-opus-9', minVendors: 1 }] }),
    path: 'redundancy.overrides[0].model',
    message: 'unknown model "claude-opus-9"',
  },
  {
    name: 'a tenant priority ceiling that does not exist',
    mutate: (c) => (c.tenants['acme-corp'].maxPriority = 'vip'),
    path: 'tenants.acme-corp.maxPriority',
    message: 'expected one of "critical", "high", "standard", "batch", got "vip"',
  },
  {
    name: 'a router seed where its public key belongs',
    mutate: (c) => (c.routers = { trustedKeys: { 'router-1': 'SUAMLK2ZNL35WSMW37E7UD4VZ7ELPKW7DHC3BWBSD2GCZ7IUQQXZIORRBU' } }),
    path: 'routers.trustedKeys.router-1',
    message: /expected a public user NKey: U and 55 more letters A-Z or digits 2-7 \(the public key, never the SU\.\.\. seed\)/,
  },
  {
    name: 'a router key with a wrong checksum',
    mutate: (c) => (c.routers = { trustedKeys: { 'router-1': 'UAT63BJMVOW6FPRBI73PVXTUFJQJL7VUPNZIGXAOEAR2RXGJG4JD5NPA' } }),
    path: 'routers.trustedKeys.router-1',
    message: 'not a valid NKey: its checksum does not match',
  },
  {
    name: 'one router key trusted for two node ids',
    mutate: (c) => (c.routers = { trustedKeys: { 'router-1': 'UAT63BJMVOW6FPRBI73PVXTUFJQJL7VUPNZIGXAOEAR2RXGJG4JD5NPF', 'router-2': ['UAT63BJMVOW6FPRBI73PVXTUFJQJL7VUPNZIGXAOEAR2RXGJG4JD5NPF'] } }),
    path: 'routers.trustedKeys.router-2',
    message: "the key UAT63BJMVOW6FPRBI73PVXTUFJQJL7VUPNZIGXAOEAR2RXGJG4JD5NPF is also router-1's; each key may speak for one node",
  },
  {
    name: 'a reply prefix that is not a subject prefix',
    mutate: (c) => (c.routers = { replyPrefixes: ['_INBOX.>'] }),
    path: 'routers.replyPrefixes[0]',
    message: 'expected a subject prefix ending in a dot, e.g. _INBOX.',
  },
  {
    name: 'an API key written in the config instead of its hash',
    mutate: (c) => (c.gateway = { apiKeys: { app: { sha256: 'sk-sy-the-key-itself' } } }),
    path: 'gateway.apiKeys.app.sha256',
    message: /expected the SHA-256 of the key as 64 lowercase hex digits \(never the key itself\)/,
  },
  {
    name: 'an API key for a tenant the config does not know',
    mutate: (c) => (c.gateway = { apiKeys: { app: { sha256: 'a'.repeat(64), tenant: 'acme-crop' } } }),
    path: 'gateway.apiKeys.app.tenant',
    message: 'unknown tenant "acme-crop"; tenants: acme-corp, translation-worker',
  },
  {
    name: 'an API key for a model the config does not know',
    mutate: (c) => (c.gateway = { apiKeys: { app: { sha256: 'a'.repeat(64), models: ['gpt-4.1', 'gpt-9'] } } }),
    path: 'gateway.apiKeys.app.models[1]',
    message: 'unknown model "gpt-9"; models: claude-sonnet-4, gpt-4.1',
  },
  {
    name: 'one key hash under two names',
    mutate: (c) => (c.gateway = { apiKeys: { a: { sha256: 'b'.repeat(64) }, b: { sha256: 'b'.repeat(64) } } }),
    path: 'gateway.apiKeys.b.sha256',
    message: 'the same key as a; give each key its own',
  },
];

function issuesOf(input: Mutable): ConfigError {
  try {
    parseConfig(input, 'test.config.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('invalid configs', () => {
  it('has at least 25 cases, and the unmodified seed is valid', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
    expect(() => parseConfig(seedInput())).not.toThrow();
  });

  it.each(CASES)('rejects $name, naming the field', ({ mutate, path, message }) => {
    const input = seedInput();
    mutate(input);
    const error = issuesOf(input);
    expect(error.code).toBe('config_invalid');
    const issue = error.issues.find((i) => i.path === path);
    expect(issue, `no issue at "${path}"; got:\n${error.message}`).toBeDefined();
    if (typeof message === 'string') expect(issue?.message).toContain(message);
    else expect(issue?.message).toMatch(message);
    expect(error.message).toContain('test.config.yaml is not a valid config');
  });
});
