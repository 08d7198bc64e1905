/**
 * Pointing a fleet at the simulator: the same config with every vendor-region's base URL (and
 * Vertex's token URL) at its simulated endpoint, and every secret the config names resolved to
 * the simulator's test credentials. Used by `switchyard dev` and by tests.
 */
import type { Config } from '../config/index.js';
import type { SimulatorCredentials } from './credentials.js';

export function configForSimulator(config: Config, endpoints: Record<string, string>): Config {
  const vendorRegions = Object.fromEntries(
    Object.entries(config.vendorRegions).map(([id, vr]) => {
      const url = endpoints[id] ?? vr.baseUrl;
      return [id, { ...vr, baseUrl: url, ...(vr.vendor === 'vertex' ? { tokenUrl: `${url}/token` } : {}) }];
    }),
  );
  return { ...config, vendorRegions };
}

/**
 * Resolves a config's credential sources to the simulator's credentials, by what they are for:
 * an API key, an AWS key pair, a service account. The config's variable names do not matter.
 */
export function simulatorSecretsFor(config: Config, credentials: Pick<SimulatorCredentials, 'apiKey' | 'aws' | 'serviceAccount'>): (source: { env: string } | { file: string }) => Promise<string> {
  const byKey = new Map<string, string>();
  for (const vr of Object.values(config.vendorRegions)) {
    const c = vr.credentials;
    const set = (source: { env: string } | { file: string } | undefined, value: string) => source && byKey.set(JSON.stringify(source), value);
    set(c.apiKey, credentials.apiKey);
    set(c.accessKeyId, credentials.aws.accessKeyId);
    set(c.secretAccessKey, credentials.aws.secretAccessKey);
    set(c.sessionToken, '');
    set(c.serviceAccount, JSON.stringify(credentials.serviceAccount));
  }
  return (source) => {
    const value = byKey.get(JSON.stringify(source));
    return value === undefined ? Promise.reject(new Error(`the config names no credential ${JSON.stringify(source)}`)) : Promise.resolve(value);
  };
}
