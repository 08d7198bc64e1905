/**
 * Connecting to NATS the way Switchyard needs: every seed server, reconnect forever with jitter,
 * pings often enough that a partition is noticed in seconds, and credentials only from the config
 * or the environment (user and password, token, NKey seed, or a .creds file), TLS when asked.
 */
import { readFile } from 'node:fs/promises';
import { connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { ErrorCode, SwitchyardError } from '../domain/index.js';

export interface NatsAuth {
  user?: string | undefined;
  pass?: string | undefined;
  token?: string | undefined;
  /** An NKey seed (`SU...`). */
  nkeySeed?: string | undefined;
  /** Path of a `.creds` file (JWT and NKey seed). */
  credsFile?: string | undefined;
}

export interface NatsTls {
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

export interface NatsOptions {
  servers: string[];
  name: string;
  auth?: NatsAuth;
  tls?: NatsTls | undefined;
  /** How often to ping the server; three missed pongs mean the connection is gone. */
  pingIntervalMs?: number;
  /**
   * Keep trying until a server answers (router nodes, which may start before NATS). Tools run
   * by people fail at once instead, with an error saying where they looked.
   */
  waitForServer?: boolean;
}

export async function connectNats(options: NatsOptions): Promise<NatsConnection> {
  const auth = options.auth ?? {};
  const authenticator = auth.credsFile
    ? credsAuthenticator(await readFile(auth.credsFile))
    : auth.nkeySeed
      ? nkeyAuthenticator(new TextEncoder().encode(auth.nkeySeed))
      : undefined;
  const connectionOptions: NodeConnectionOptions = {
    servers: options.servers,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 250,
    pingInterval: options.pingIntervalMs ?? 2_000,
    maxPingOut: 3,
    waitOnFirstConnect: options.waitForServer ?? false,
    ...(auth.user ? { user: auth.user, pass: auth.pass } : {}),
    ...(auth.token ? { token: auth.token } : {}),
    ...(authenticator ? { authenticator } : {}),
    ...(options.tls ? { tls: { caFile: options.tls.caFile, certFile: options.tls.certFile, keyFile: options.tls.keyFile } } : {}),
  };
  try {
    return await connect(connectionOptions);
  } catch (error) {
    throw new NatsUnreachableError(options.servers, error);
  }
}

export class NatsUnreachableError extends SwitchyardError {
  readonly code = ErrorCode.RouterUnavailable;
  constructor(servers: readonly string[], cause: unknown) {
    super(
      `cannot reach NATS at ${servers.join(', ')}: ${cause instanceof Error ? cause.message : String(cause)}`,
      'Check the address (--nats or NATS_URL) and that nats-server runs there; `switchyard dev` starts one for you.',
      { cause },
    );
  }
}

/** NATS settings from the environment, so secrets never appear on a command line. */
export function natsFromEnvironment(env: Readonly<Record<string, string | undefined>>): { servers?: string[]; auth: NatsAuth; tls?: NatsTls } {
  const servers = env.NATS_URL?.split(',').map((s) => s.trim()).filter(Boolean);
  const tls = env.NATS_CA || env.NATS_CERT ? { caFile: env.NATS_CA, certFile: env.NATS_CERT, keyFile: env.NATS_KEY } : undefined;
  return {
    ...(servers && servers.length > 0 ? { servers } : {}),
    auth: { user: env.NATS_USER, pass: env.NATS_PASSWORD, token: env.NATS_TOKEN, nkeySeed: env.NATS_NKEY_SEED, credsFile: env.NATS_CREDS },
    ...(tls ? { tls } : {}),
  };
}

/**
 * Drains a connection (its subscriptions finish what they hold) and makes sure it is closed even
 * when draining fails, so no reconnect loop outlives the process's work.
 */
export async function closeNats(connection: NatsConnection): Promise<void> {
  try {
    if (!connection.isClosed() && !connection.isDraining()) await connection.drain();
  } finally {
    if (!connection.isClosed()) await connection.close();
  }
}
