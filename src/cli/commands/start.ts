/** `switchyard start`: one router node for real vendors, until SIGINT or SIGTERM, then a graceful drain. */
import { hostname } from 'node:os';
import path from 'node:path';
import { nuid } from '@nats-io/transport-node';
import { startRouterNode } from '../../../actors/node.js';
import { UsageError } from '../../domain/index.js';
import { loadConfig, secretResolver } from '../../config/index.js';
import { environmentsOf } from '../../routing/index.js';
import { closeNats, connectNats } from '../../transport/index.js';
import { noPositionals, parseFlags } from '../args.js';
import { ExitCode, type CliIo } from '../io.js';
import { natsOptions } from '../nats-options.js';

export const startHelp = `Usage: switchyard start --config PATH --env NAME [--nats URL,...] [--node-id ID] [--grace-ms N]

Runs one router node: takes requests from sy.req.<usecase> in the queue group sy-routers, routes
them to the config's vendors, and drains on Ctrl-C or SIGTERM (no new requests; those in flight
finish within the grace period), then exits 0.

  --config PATH   config file (default $SWITCHYARD_CONFIG, then ./switchyard.config.ts)
  --env NAME      the environment whose routes this node serves
  --nats URL,...  NATS servers (default $NATS_URL, then nats://127.0.0.1:4222); credentials and TLS
                  come from NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED, NATS_CREDS, NATS_CA/CERT/KEY
  --node-id ID    this node's id (default <host>-<random>)
  --grace-ms N    how long a drain waits for requests in flight (default 30000)
`;

export async function start(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseFlags('start', args, {
    config: { type: 'string' },
    env: { type: 'string' },
    nats: { type: 'string' },
    'node-id': { type: 'string' },
    'grace-ms': { type: 'string', default: '30000' },
  });
  noPositionals('start', positionals);
  const { config, file } = await loadConfig({ flag: values.config, cwd: io.cwd, env: io.env });
  const environments = environmentsOf(config);
  if (!values.env || !environments.includes(values.env)) {
    throw new UsageError(`switchyard start: --env must name an environment of the config; it routes: ${environments.join(', ')}`, 'Pass --env with one of those.');
  }
  const graceMs = Number(values['grace-ms']);
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new UsageError(`switchyard start: --grace-ms expects a number of milliseconds, got "${values['grace-ms']}"`);
  const nodeId = values['node-id'] ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${nuid.next().slice(-6)}`;
  const connection = await connectNats({ ...natsOptions(values.nats, io.env, `switchyard-router-${nodeId}`), waitForServer: true });
  const node = startRouterNode({
    connection,
    config,
    nodeId,
    deps: { secrets: secretResolver(io.env, path.dirname(file)) },
    system: { environment: values.env },
    graceMs,
  });
  io.stdout(`Router node ${nodeId} serving environment ${values.env} on ${connection.getServer()} (config ${file}). Ctrl-C drains and stops.\n`);
  await (io.shutdown ?? new Promise(() => {}));
  io.stdout(`Draining ${nodeId}...\n`);
  await node.drain(graceMs);
  await closeNats(connection);
  return ExitCode.Ok;
}
