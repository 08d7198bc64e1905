/**
 * Test helpers around the vendor simulator: start it on the example fleet with instant latency,
 * point a config's vendor-regions at it, and resolve secrets to its test credentials.
 */
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../src/config/index.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/index.js';
import type { SecretResolver } from '../../src/vendors/types.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export async function seedConfig(): Promise<Config> {
  return (await loadConfig({ flag: 'examples/seed.config.yaml', cwd: root, env: {} })).config;
}

export async function startTestSimulator(options: Partial<SimulatorOptions> = {}): Promise<{ simulator: RunningSimulator; config: Config }> {
  const base = options.config ?? (await seedConfig());
  const simulator = await startSimulator({ latencyScale: 0, seed: 7, ...options, config: base });
  return { simulator, config: pointAt(base, simulator) };
}

/** The same config with every vendor-region's base URL (and Vertex token URL) at the simulator. */
export function pointAt(config: Config, simulator: RunningSimulator): Config {
  const endpoints = simulator.endpoints();
  const vendorRegions = Object.fromEntries(
    Object.entries(config.vendorRegions).map(([id, vr]) => {
      const url = endpoints[id] ?? vr.baseUrl;
      return [id, { ...vr, baseUrl: url, ...(vr.vendor === 'vertex' ? { tokenUrl: `${url}/token` } : {}) }];
    }),
  );
  return { ...config, vendorRegions };
}

/** Every secret the fleet names resolves to the simulator's test credentials. */
export function simulatorSecrets(simulator: RunningSimulator): SecretResolver {
  const byEnv: Record<string, string> = {
    ANTHROPIC_API_KEY: simulator.credentials.apiKey,
    OPENAI_API_KEY: simulator.credentials.apiKey,
    AZURE_OPENAI_API_KEY: simulator.credentials.apiKey,
    AWS_ACCESS_KEY_ID: simulator.credentials.aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: simulator.credentials.aws.secretAccessKey,
    AWS_SESSION_TOKEN: '',
    GOOGLE_APPLICATION_CREDENTIALS: JSON.stringify(simulator.credentials.serviceAccount),
  };
  return (source) => {
    if ('env' in source && source.env in byEnv) return Promise.resolve(byEnv[source.env] ?? '');
    return Promise.reject(new Error(`no simulator secret for ${JSON.stringify(source)}`));
  };
}
