/** Where a command finds NATS: --nats, else $NATS_URL, else the local default; credentials only from the environment. */
import { natsFromEnvironment, type NatsOptions } from '../transport/index.js';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

export function natsOptions(flag: string | undefined, env: Readonly<Record<string, string | undefined>>, name: string): NatsOptions {
  const fromEnv = natsFromEnvironment(env);
  const servers = flag?.split(',').map((s) => s.trim()).filter(Boolean) ?? fromEnv.servers ?? [DEFAULT_NATS_URL];
  return { servers, name, auth: fromEnv.auth, ...(fromEnv.tls ? { tls: fromEnv.tls } : {}) };
}
