import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, loadConfig, maskConfig, parseConfig } from '../../src/config/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('config print and schema', () => {
  it('masks passwords in URLs and says only whether each credential is available', async () => {
    const { config } = await loadConfig({ flag: 'examples/seed.config.yaml', cwd: root, env: {} });
    const anthropic = config.vendorRegions.anthropic;
    if (!anthropic) throw new Error('seed has no anthropic vendor-region');
    anthropic.baseUrl = 'https://user:hunter2@proxy.example.com/anthropic';
    const printed = JSON.stringify(maskConfig(config, { isAvailable: (s) => 'env' in s && s.env === 'ANTHROPIC_API_KEY' }));
    expect(printed).not.toContain('hunter2');
    expect(printed).toContain('https://****:****@proxy.example.com/anthropic');
    const masked = JSON.parse(printed) as { vendorRegions: Record<string, { credentials: Record<string, unknown> }> };
    expect(masked.vendorRegions.anthropic?.credentials.apiKey).toEqual({ env: 'ANTHROPIC_API_KEY', available: true });
    expect(masked.vendorRegions.openai?.credentials.apiKey).toEqual({ env: 'OPENAI_API_KEY', available: false });
  });

  it('masks any secret-looking field that reaches the printer', () => {
    const config = parseConfig({
      vendorRegions: {},
      models: {},
      routes: {},
    });
    const printed = maskConfig({ ...config, tenants: { t: { maxShare: 10, maxPriority: 'batch', password: 'x' } as never } }, { isAvailable: () => false });
    expect(JSON.stringify(printed)).toContain('"password":"****"');
  });

  it('publishes a JSON Schema that describes every section and the route language', () => {
    const schema = configJsonSchema();
    const text = JSON.stringify(schema);
    expect(schema.title).toBe('Switchyard config');
    const properties = Object.keys((schema as { properties: Record<string, unknown> }).properties);
    expect(properties).toEqual(
      expect.arrayContaining(['vendorRegions', 'models', 'routes', 'pools', 'tenants', 'peakLoad', 'bufferFactor', 'redundancy']),
    );
    for (const word of ['LatencyBased', 'LoadBalanced', 'Sequence', 'Fallback', 'Spill', 'rpm', 'tpm', 'concurrency']) {
      expect(text).toContain(`"${word}"`);
    }
  });
});
