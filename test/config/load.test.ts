import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ConfigNotFoundError, ConfigUnreadableError } from '../../src/domain/index.js';
import { findConfigPath, loadConfig, readConfigData } from '../../src/config/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const examples = path.join(root, 'examples');

describe('loading configs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'switchyard-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the same resolved config from the TypeScript and the YAML seed', async () => {
    const ts = await loadConfig({ flag: 'examples/seed.config.ts', cwd: root, env: {} });
    const yaml = await loadConfig({ flag: 'examples/seed.config.yaml', cwd: root, env: {} });
    expect(yaml.config).toEqual(ts.config);
    expect(Object.keys(ts.config.routes)).toEqual(['claude-sonnet-4', 'gpt-4.1']);
  });

  it('gives the same resolved config from JSON as from YAML', async () => {
    const data = await readConfigData(path.join(examples, 'seed.config.yaml'));
    const file = path.join(dir, 'seed.json');
    await writeFile(file, JSON.stringify(data));
    const json = await loadConfig({ flag: file, cwd: dir, env: {} });
    const yaml = await loadConfig({ flag: 'examples/seed.config.yaml', cwd: root, env: {} });
    expect(json.config).toEqual(yaml.config);
  });

  it("loads a TypeScript config outside the checkout that imports its builders from 'switchyard'", async () => {
    const file = path.join(dir, 'switchyard.config.ts');
    await writeFile(
      file,
      `import { AnthropicProvider, BedrockProvider, LoadBalanced, defineConfig } from 'switchyard';
const quota = { rpm: 10, tpm: 1000, concurrency: 2 };
export default defineConfig({
  vendorRegions: {
    anthropic: { credentials: { apiKey: { env: 'K' } }, deployments: { m: { vendorModelId: 'm-1', quota } } },
    'bedrock/eu-west-1': {
      credentials: { accessKeyId: { env: 'A' }, secretAccessKey: { env: 'S' } },
      deployments: { m: { vendorModelId: 'm-1', quota } },
    },
  },
  models: { m: {} },
  routes: { M: { eu: LoadBalanced([AnthropicProvider(), 90], [BedrockProvider.eu_west_1(), 10]) } },
});
`,
    );
    // No --config: the default file in the working folder is found.
    const { config } = await loadConfig({ cwd: dir, env: {} });
    expect(config.routes.m?.eu?.otherwise).toEqual({
      type: 'LoadBalanced',
      members: [
        { route: { type: 'Target', vendorRegion: 'anthropic' }, weight: 90 },
        { route: { type: 'Target', vendorRegion: 'bedrock/eu-west-1' }, weight: 10 },
      ],
    });
    expect(config.vendorRegions['bedrock/eu-west-1']).toMatchObject({
      vendor: 'bedrock',
      protocol: 'bedrock',
      region: 'eu-west-1',
      baseUrl: 'https://bedrock-runtime.eu-west-1.amazonaws.com',
    });
  });

  it('takes --config first, then SWITCHYARD_CONFIG, then ./switchyard.config.ts', async () => {
    await writeFile(path.join(dir, 'switchyard.config.ts'), 'export default {}');
    await writeFile(path.join(dir, 'other.yaml'), '{}');
    await writeFile(path.join(dir, 'flag.yaml'), '{}');
    expect(findConfigPath({ cwd: dir, env: {} })).toBe(path.join(dir, 'switchyard.config.ts'));
    expect(findConfigPath({ cwd: dir, env: { SWITCHYARD_CONFIG: 'other.yaml' } })).toBe(path.join(dir, 'other.yaml'));
    expect(findConfigPath({ flag: 'flag.yaml', cwd: dir, env: { SWITCHYARD_CONFIG: 'other.yaml' } })).toBe(path.join(dir, 'flag.yaml'));
  });

  it('says where to find a config when there is none', () => {
    expect(() => findConfigPath({ cwd: dir, env: {} })).toThrow(ConfigNotFoundError);
    expect(() => findConfigPath({ flag: 'missing.yaml', cwd: dir, env: {} })).toThrow(/missing\.yaml \(from --config\) does not exist/);
    expect(() => findConfigPath({ cwd: dir, env: { SWITCHYARD_CONFIG: 'gone.ts' } })).toThrow(/from SWITCHYARD_CONFIG/);
  });

  it('reports a YAML syntax error with its line', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'models:\n  a: {\n  b: 1\n');
    await expect(readConfigData(file)).rejects.toThrow(ConfigUnreadableError);
    await expect(readConfigData(file)).rejects.toThrow(/line \d+/);
  });

  it('reports a JSON syntax error, an unsupported extension and a module without a default export', async () => {
    await writeFile(path.join(dir, 'bad.json'), '{ "models": ');
    await writeFile(path.join(dir, 'config.toml'), '');
    await writeFile(path.join(dir, 'none.mjs'), 'export const x = 1;');
    await expect(readConfigData(path.join(dir, 'bad.json'))).rejects.toThrow(/cannot read config .*bad\.json/);
    await expect(readConfigData(path.join(dir, 'config.toml'))).rejects.toThrow(/unsupported extension "\.toml"/);
    await expect(readConfigData(path.join(dir, 'none.mjs'))).rejects.toThrow(/export default defineConfig/);
  });

  it('names the file in a validation error', async () => {
    await writeFile(path.join(dir, 'empty.yaml'), 'models: {}\n');
    const failure = loadConfig({ flag: 'empty.yaml', cwd: dir, env: {} });
    await expect(failure).rejects.toThrow(ConfigError);
    await expect(failure).rejects.toThrow(/empty\.yaml is not a valid config[\s\S]*vendorRegions: expected record/);
  });
});
