/**
 * Connecting to NATS the way Switchyard needs: every seed server, reconnect forever with jitter,
 * pings often enough that a partition is noticed in seconds, and credentials only from the config
 * or the environment (user and password, token, NKey seed, or a .creds file), TLS when asked.
 */
import { readFile } from 'node:fs/promises';
import { connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { ErrorCode, SwitchyardError } from '../domain/index.js';
import type { Logger } from '../observability/index.js';

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
    // A first connect that hangs (a black-holed address) must fail in seconds, not the default 20.
    timeout: 3_000,
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

/**
 * Connects, trying again every `retryMs` until a server answers or `stop` settles (then undefined),
 * telling `onWaiting` of every failed try, so a router started before NATS says at once what it
 * is waiting for, and a Ctrl-C while it waits ends it.
 */
export async function connectNatsPatiently(
  options: NatsOptions,
  hooks: { stop: Promise<unknown>; onWaiting: (error: NatsUnreachableError, attempt: number) => void; retryMs?: number },
): Promise<NatsConnection | undefined> {
  let stopped = false;
  void hooks.stop.then(() => (stopped = true));
  for (let attempt = 1; !stopped; attempt++) {
    try {
      const connection = await connectNats({ ...options, waitForServer: false });
      if (!stopped) return connection;
      await closeNats(connection);
      return undefined;
    } catch (error) {
      if (!(error instanceof NatsUnreachableError)) throw error;
      if (stopped) return undefined;
      hooks.onWaiting(error, attempt);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([hooks.stop, new Promise((resolve) => (timer = setTimeout(resolve, hooks.retryMs ?? 2_000)))]);
    clearTimeout(timer);
  }
  return undefined;
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

/** Logs what happens to a long-lived connection: losing NATS, getting it back, permission refusals. */
export function logConnection(connection: NatsConnection, log: Logger): void {
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') log.warn({ event: 'nats_disconnected', server: status.server }, 'lost the NATS connection; reconnecting');
      else if (status.type === 'reconnect') log.info({ event: 'nats_reconnected', server: status.server }, 'NATS connection back');
      else if (status.type === 'error') log.warn({ event: 'nats_error', error: status.error.message }, 'NATS reported an error on the connection');
    }
  })();
}
