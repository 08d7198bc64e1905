/**
 * Aiming a router node at a running simulator from afar (`switchyard start --simulator URL`, as
 * the compose stack does): its admin API names each vendor-region's endpoint and the test
 * credentials; the endpoints are rewritten to the host the admin was reached at, since the
 * simulator only knows the address it bound (0.0.0.0 in a container).
 */
import { z } from 'zod';
import type { SimulatorCredentials } from './credentials.js';

const EndpointsSchema = z.record(z.string(), z.url());
const CredentialsSchema = z.object({
  apiKey: z.string(),
  aws: z.object({ accessKeyId: z.string(), secretAccessKey: z.string() }),
  serviceAccount: z.object({
    type: z.literal('service_account'),
    project_id: z.string(),
    private_key_id: z.string(),
    private_key: z.string(),
    client_email: z.string(),
    client_id: z.string(),
    token_uri: z.string(),
  }),
});

export type RemoteCredentials = Pick<SimulatorCredentials, 'apiKey' | 'aws' | 'serviceAccount'>;

export interface SimulatorTarget {
  endpoints: Record<string, string>;
  credentials: RemoteCredentials;
}

export async function fetchSimulatorTarget(adminUrl: string, signal?: AbortSignal): Promise<SimulatorTarget> {
  const admin = new URL(adminUrl);
  const read = async (path: string): Promise<unknown> => {
    const response = await fetch(new URL(path, admin), { signal: signal ?? AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
    return response.json();
  };
  const endpoints = EndpointsSchema.parse(await read('/endpoints'));
  const credentials: RemoteCredentials = CredentialsSchema.parse(await read('/credentials'));
  const rewritten = Object.fromEntries(
    Object.entries(endpoints).map(([id, url]) => {
      const endpoint = new URL(url);
      endpoint.hostname = admin.hostname;
      return [id, endpoint.toString().replace(/\/$/, '')];
    }),
  );
  return { endpoints: rewritten, credentials };
}
