/**
 * The credentials the simulated vendors accept: a fixed API key, fixed AWS keys (SigV4 needs the
 * secret on both sides), and a service account whose JWT grants the simulated token endpoint
 * honours. Test credentials only: they open nothing but this simulator.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';

export interface ServiceAccountKey {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  token_uri: string;
}

export interface SimulatorCredentials {
  apiKey: string;
  aws: { accessKeyId: string; secretAccessKey: string };
  /** A key file as Google issues them; `token_uri` points at the simulated token endpoint when known. */
  serviceAccount: ServiceAccountKey;
  /** Verifies the JWT grants signed with the service account's private key. */
  serviceAccountPublicKey: KeyObject;
}

export const SIMULATOR_API_KEY = 'sk-switchyard-simulator';
export const SIMULATOR_AWS = { accessKeyId: 'AKIDSWITCHYARDSIM', secretAccessKey: 'switchyard-simulator-secret' } as const;

export function createSimulatorCredentials(projectId = 'switchyard-example'): SimulatorCredentials {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    apiKey: SIMULATOR_API_KEY,
    aws: { ...SIMULATOR_AWS },
    serviceAccount: {
      type: 'service_account',
      project_id: projectId,
      private_key_id: randomBytes(8).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: `switchyard-simulator@${projectId}.iam.gserviceaccount.com`,
      client_id: '100000000000000000001',
      token_uri: '',
    },
    serviceAccountPublicKey: publicKey,
  };
}

/** Access tokens the simulated token endpoint has issued, with their expiry. */
export class AccessTokens {
  private readonly tokens = new Map<string, number>();

  issue(lifetimeMs: number, now = Date.now()): string {
    const token = `ya29.sim-${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, now + lifetimeMs);
    return token;
  }

  isValid(token: string, now = Date.now()): boolean {
    const expiry = this.tokens.get(token);
    return expiry !== undefined && expiry > now;
  }
}
