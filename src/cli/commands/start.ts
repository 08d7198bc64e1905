/**
 * `switchyard start`: one router node for real vendors, until SIGINT or SIGTERM (then a graceful
 * drain) or a drain asked for over NATS (`switchyard drain NODE`), after which it exits 0 so a
 * supervisor restarts it. Says at once what it is missing: NATS it cannot reach, credentials it
 * cannot find.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startRouterNode } from '../../../actors/node.js';
import { ConfigError, UsageError } from '../../domain/index.js';
import { loadConfig, loadTrustedKeys, missingCredentials, secretResolver, type Config } from '../../config/index.js';
import { createLogger } from '../../observability/index.js';
import { configForSimulator, fetchSimulatorTarget, simulatorSecretsFor, type SimulatorTarget } from '../../simulator/index.js';
import { environmentsOf } from '../../routing/index.js';
import { closeNats, connectNatsPatiently, generateSigner, logConnection, signerFromSeed, TrustedRouters, type GossipSigner } from '../../transport/index.js';
import { noPositionals, parseFlags } from '../args.js';
import { ExitCode, type CliIo } from '../io.js';
import { natsOptions } from '../nats-options.js';

export const startHelp = `Usage: switchyard start --config PATH --env NAME [--nats URL,...] [--node-id ID] [--grace-ms N] [--stay-drained]
                        [--simulator URL]

Runs one router node: takes requests from sy.req.<usecase> in the queue group sy-routers, routes
them to the config's vendors, and drains on Ctrl-C or SIGTERM (no new requests; those in flight
finish within the grace period), then exits 0. A drain asked for with \`switchyard drain NODE\`
ends the process the same way, unless --stay-drained.

  --config PATH   config file (default $SWITCHYARD_CONFIG, then ./switchyard.config.ts)
  --env NAME      the environment whose routes this node serves
  --nats URL,...  NATS servers (default $NATS_URL, then nats://127.0.0.1:4222); credentials and TLS
                  come from NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED, NATS_CREDS, NATS_CA/CERT/KEY
  --node-id ID    this node's id (default: the id routers.trustedKeys gives this node's key, else <host>-<random>)
  --grace-ms N    how long a drain waits for requests in flight (default 30000)
  --stay-drained  after a drain over NATS, keep the process up (idle) until Ctrl-C
  --log-level L   pino level of the JSON log on stdout: fatal, error, warn, info (default), debug, silent
  --simulator URL route to the vendor simulator whose admin API is at URL (\`switchyard simulate\`),
                  with its test credentials, instead of the config's real vendors

The node signs its gossip with the NKey seed in $SWITCHYARD_NODE_SEED, else $NATS_NKEY_SEED (its NATS
identity), and believes only peers whose public keys routers.trustedKeys lists (docs/deployment.md).
`;

export const startFlags = {
  config: { type: 'string' },
  env: { type: 'string' },
  nats: { type: 'string' },
  'node-id': { type: 'string' },
  'grace-ms': { type: 'string', default: '30000' },
  'stay-drained': { type: 'boolean', default: false },
  'log-level': { type: 'string', default: 'info' },
  simulator: { type: 'string' },
} as const;

export async function start(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseFlags('start', args, startFlags);
  noPositionals('start', positionals);
  const loaded = await loadConfig({ flag: values.config, cwd: io.cwd, env: io.env });
  const { file } = loaded;
  const environments = environmentsOf(loaded.config);
  if (!values.env || !environments.includes(values.env)) {
    throw new UsageError(`switchyard start: --env must name an environment of the config; it routes: ${environments.join(', ')}`, 'Pass --env with one of those.');
  }
  const graceMs = Number(values['grace-ms']);
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new UsageError(`switchyard start: --grace-ms expects a number of milliseconds, got "${values['grace-ms']}"`);
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!levels.includes(values['log-level'])) throw new UsageError(`switchyard start: --log-level expects one of ${levels.join(', ')}, got "${values['log-level']}"`);
  const baseDir = path.dirname(file);
  const { signer, trusted, nodeId } = await gossipIdentity(values['node-id'], loaded.config.routers, baseDir, io);
  const shutdown = io.shutdown ?? new Promise<never>(() => {});
  const log = createLogger({ level: values['log-level'], base: { node: nodeId } });

  const target = values.simulator ? await reachSimulator(values.simulator, shutdown, io) : undefined;
  if (values.simulator && !target) return ExitCode.Failed;
  const config = target ? configForSimulator(loaded.config, target.endpoints) : loaded.config;
  if (target) io.stdout(`Routing to the vendor simulator at ${values.simulator} with its test credentials, not to real vendors (drop --simulator for those).\n`);
  // Credentials first: a router missing some still serves the rest, and says which at once.
  const missing = target ? {} : missingCredentials(config, io.env, baseDir);
  for (const [vendorRegion, gaps] of Object.entries(missing)) {
    io.stderr(`switchyard start: ${vendorRegion} is unusable on this node: missing ${gaps.join(', ')}.\n`);
  }
  if (Object.keys(missing).length > 0) io.stderr('Set those in the environment (or create the files) and restart the node; it routes around them meanwhile.\n');

  const nats = natsOptions(values.nats, io.env, `switchyard-router-${nodeId}`);
  const connection = await connectNatsPatiently(nats, {
    stop: shutdown,
    onWaiting: (error, attempt) => {
      // The first failure in full, then a line every ten tries (20 s): visible, not a flood.
      if (attempt === 1) io.stderr(`switchyard start: ${error.message}\n${error.hint}\nRetrying every 2 s; Ctrl-C stops.\n`);
      else if (attempt % 10 === 0) io.stderr(`switchyard start: still cannot reach NATS at ${nats.servers.join(', ')} (${attempt} tries)\n`);
    },
  });
  if (!connection) {
    io.stderr('switchyard start: stopped before NATS answered; no router node ran.\n');
    return ExitCode.Failed;
  }
  logConnection(connection, log);
  const node = startRouterNode({
    connection,
    config,
    nodeId,
    deps: { secrets: target ? simulatorSecretsFor(config, target.credentials) : secretResolver(io.env, baseDir) },
    system: { environment: values.env },
    graceMs,
    log,
    signer,
    trusted,
    unusable: Object.fromEntries(Object.entries(missing).map(([vr, gaps]) => [vr, `missing ${gaps.join(', ')}`])),
  });
  io.stdout(`Router node ${nodeId} serving environment ${values.env} on ${connection.getServer()} (config ${file}). Ctrl-C drains and stops.\n`);
  const why = await Promise.race([shutdown.then(() => 'signal' as const), node.stopped.then(() => 'drained' as const)]);
  if (why === 'signal') {
    io.stdout(`Draining ${nodeId}...\n`);
    await node.drain(graceMs);
  } else {
    io.stdout(`Router node ${nodeId} drained on request; its work is done.\n`);
    if (values['stay-drained']) {
      io.stdout('Staying up (--stay-drained) until Ctrl-C.\n');
      await shutdown;
    }
  }
  await closeNats(connection);
  return ExitCode.Ok;
}

/** Where the node's signing seed comes from: its own variable, else its NATS identity's. */
const SEED_VARIABLES = ['SWITCHYARD_NODE_SEED', 'NATS_NKEY_SEED'] as const;

/**
 * The node's key, whom it trusts, and its id: the id the trust list binds to its key unless
 * --node-id says otherwise, and never an id that list gives another key. Warns, rather than
 * refusing to start, when peers will not believe this node or it will believe none of them:
 * a single node works without gossip.
 */
async function gossipIdentity(
  flag: string | undefined,
  routers: Config['routers'],
  baseDir: string,
  io: CliIo,
): Promise<{ signer: GossipSigner; trusted: TrustedRouters; nodeId: string }> {
  const variable = SEED_VARIABLES.find((name) => io.env[name]);
  let signer: GossipSigner;
  if (variable) {
    try {
      signer = signerFromSeed(io.env[variable] ?? '');
    } catch (error) {
      throw new UsageError(`switchyard start: $${variable} does not hold an NKey seed: ${error instanceof Error ? error.message : String(error)}`, 'Set it to a user seed (SU...), e.g. from `nk -gen user` (docs/deployment.md).');
    }
  } else {
    signer = generateSigner().signer;
    io.stderr(`switchyard start: no $SWITCHYARD_NODE_SEED or $NATS_NKEY_SEED; signing gossip with a key made up now (${signer.publicKey}), which no peer trusts.\n`);
  }
  const keys = await loadTrustedKeys(routers, baseDir);
  let trusted: TrustedRouters;
  try {
    trusted = new TrustedRouters(keys);
  } catch (error) {
    // The config and its trustedKeysFile each check out alone; together they gave one key to two nodes.
    throw new ConfigError([{ path: 'routers.trustedKeys', message: error instanceof Error ? error.message : String(error) }]);
  }
  const bound = trusted.nodeOf(signer.publicKey);
  if (flag !== undefined && bound !== undefined && flag !== bound) {
    throw new UsageError(`switchyard start: --node-id ${flag}, but routers.trustedKeys binds this node's key to ${bound}`, `Start it as --node-id ${bound}, or give ${flag} its own key.`);
  }
  const nodeId = flag ?? bound ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 50)}-${randomBytes(6).toString('base64url')}`;
  if (trusted.size === 0) io.stderr('switchyard start: routers.trustedKeys lists no router: this node will ignore every peer\'s gossip.\n');
  else if (bound === undefined) io.stderr(`switchyard start: routers.trustedKeys does not list this node's key; peers will ignore its gossip. Add ${nodeId}: ${signer.publicKey}\n`);
  return { signer, trusted, nodeId };
}

/** The simulator's endpoints and credentials, asked again every second until it answers (it may start after this node). */
async function reachSimulator(url: string, shutdown: Promise<unknown>, io: CliIo): Promise<SimulatorTarget | undefined> {
  let stopped = false;
  void shutdown.then(() => (stopped = true));
  for (let attempt = 1; !stopped; attempt++) {
    try {
      return await fetchSimulatorTarget(url);
    } catch (error) {
      if (attempt === 1) io.stderr(`switchyard start: the simulator at ${url} does not answer yet (${error instanceof Error ? error.message : String(error)}); retrying every second.\n`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
  return undefined;
}
