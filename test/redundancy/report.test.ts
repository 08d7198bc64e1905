import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, readConfigData } from '../../src/config/index.js';
import { formatReport, redundancyReport, type RedundancyRow } from '../../src/redundancy/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const load = async (file: string) => (await loadConfig({ flag: file, cwd: root, env: {} })).config;

function row(rows: RedundancyRow[], model: string, environment: string, useCase: string): RedundancyRow {
  const found = rows.find((r) => r.model === model && r.environment === environment && r.useCase === useCase);
  if (!found) throw new Error(`no row ${model} / ${environment} / ${useCase}`);
  return found;
}

describe('single-point-of-failure report', () => {
  it('passes every row of the seed config', async () => {
    const rows = redundancyReport(await load('examples/seed.config.ts'));
    expect(rows.map((r) => `${r.model}/${r.environment}/${r.useCase}`)).toEqual([
      'claude-sonnet-4/us_prod/conversation_serving',
      'claude-sonnet-4/us_prod/otherwise',
      'claude-sonnet-4/test/otherwise',
      'gpt-4.1/us_prod/otherwise',
      'gpt-4.1/test/otherwise',
    ]);
    expect(rows.filter((r) => !r.pass)).toEqual([]);
    const flagship = row(rows, 'claude-sonnet-4', 'us_prod', 'conversation_serving');
    expect(flagship).toMatchObject({ pool: 'fin', critical: true, vendors: ['vertex', 'anthropic', 'bedrock'], fallbacks: ['gpt-4.1'] });
    // fin reserves 60% of 1000 + 2000 + 1000 rpm.
    expect(flagship.capacity.rpm).toBe(2400);
  });

  it('names each single point of failure planted in spof.config.yaml', async () => {
    const rows = redundancyReport(await load('examples/spof.config.yaml'));
    const failures = rows.flatMap((r) =>
      (Object.keys(r.checks) as (keyof RedundancyRow['checks'])[]).filter((c) => !r.checks[c]).map((c) => `${r.model}/${r.useCase}/${c}`),
    );
    expect(failures.sort()).toEqual(
      [
        'claude-sonnet-4/conversation_serving/vendors',
        'claude-sonnet-4/conversation_serving/fallback',
        'claude-sonnet-4/fraud_check/isolatedCapacity',
        'claude-sonnet-4/otherwise/quota',
        'gpt-4.1/otherwise/vendors',
        'gpt-4.1/otherwise/regions',
      ].sort(),
    );
    const conversation = row(rows, 'claude-sonnet-4', 'us_prod', 'conversation_serving');
    expect(conversation.reasons.vendors).toBe('only bedrock; add a deployment of this model at another vendor to the route (floor: 2 vendors)');
    expect(conversation.reasons.regions).toBe('2 regions: us-east-1, us-west-2');
    expect(row(rows, 'claude-sonnet-4', 'us_prod', 'otherwise').reasons.quota).toContain('300 rpm < peak 400 × buffer 2 = 800');
    expect(row(rows, 'claude-sonnet-4', 'us_prod', 'fraud_check').reasons.isolatedCapacity).toContain(
      'add shares for claude-sonnet-4@anthropic, claude-sonnet-4@vertex/us-east5 to pools.fin.shares',
    );
  });

  it('counts global endpoints of different vendors as different regions', async () => {
    const data = (await readConfigData(`${root}/examples/spof.config.yaml`)) as Record<string, any>;
    data.vendorRegions.anthropic.deployments['gpt-4.1'] = { vendorModelId: 'x', quota: { rpm: 1, tpm: 1, concurrency: 1 } };
    data.routes.GPT_4_1.us_prod = { Sequence: ['openai', 'anthropic'] };
    const rows = redundancyReport(parseConfig(data));
    expect(row(rows, 'gpt-4.1', 'us_prod', 'otherwise').regions).toEqual(['openai (global)', 'anthropic (global)']);
  });

  it('applies configured floors, later overrides winning', async () => {
    const data = (await readConfigData(`${root}/examples/spof.config.yaml`)) as Record<string, any>;
    data.redundancy = {
      minVendors: 3,
      critical: { requireFallback: false },
      overrides: [{ model: 'gpt-4.1', minVendors: 2 }, { model: 'gpt-4.1', minVendors: 1, minRegions: 1 }],
    };
    const rows = redundancyReport(parseConfig(data));
    expect(row(rows, 'gpt-4.1', 'us_prod', 'otherwise').pass).toBe(true);
    const fraud = row(rows, 'claude-sonnet-4', 'us_prod', 'fraud_check');
    expect(fraud.checks.vendors).toBe(false);
    expect(fraud.reasons.vendors).toContain('floor: 3 vendors');
    expect(row(rows, 'claude-sonnet-4', 'us_prod', 'conversation_serving').checks.fallback).toBe(true);
  });

  it('filters by environment and prints a table with one line per failing cell', async () => {
    const config = await load('examples/seed.config.ts');
    expect(redundancyReport(config, { environment: 'test' }).map((r) => r.environment)).toEqual(['test', 'test']);
    const spof = formatReport(redundancyReport(await load('examples/spof.config.yaml')));
    expect(spof.split('\n')[0]).toMatch(/^MODEL\s+ENV\s+USE CASE\s+POOL\s+VENDORS\s+REGIONS\s+FALLBACK\s+ISOLATED\s+QUOTA\s+RESULT$/);
    expect(spof).toContain('gpt-4.1 / us_prod / otherwise — regions: only openai (global)');
    expect(spof).toContain('4 rows: 0 pass, 4 fail.');
  });
});
