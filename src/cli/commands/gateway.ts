/**
 * `switchyard gateway`: the OpenAI- and Anthropic-compatible HTTP front door, until SIGINT or
 * SIGTERM; and `switchyard gateway key`, which makes an API key and prints the config entry that
 * holds only its hash.
 */
import { stringify } from 'yaml';
import { PRIORITIES, UsageError, type Priority } from '../../domain/index.js';
import path from 'node:path';
import { loadApiKeysFile, loadConfig } from '../../config/index.js';
import { newApiKey, startGateway } from '../../gateway/index.js';
import { createLogger } from '../../observability/index.js';
import { closeNats, connectNatsPatiently, logConnection } from '../../transport/index.js';
import { noPositionals, parseFlags } from '../args.js';
import { ExitCode, type CliIo } from '../io.js';
import { natsOptions } from '../nats-options.js';

export const gatewayHelp = `Usage: switchyard gateway --config PATH [--api-keys FILE] [--listen HOST:PORT] [--nats URL,...] [--log-level L]
       switchyard gateway key [--name NAME] [--tenant T] [--use-cases A,B] [--max-priority P] [--models M,N]

Serves OpenAI's POST /v1/chat/completions and Anthropic's POST /v1/messages (plain and streaming),
GET /v1/models, GET /healthz and GET /readyz, forwarding every request over NATS to the router
nodes. Point an OpenAI SDK's baseURL at http://HOST:PORT/v1, or an Anthropic SDK's at
http://HOST:PORT, with a key from the config's gateway.apiKeys.

  --config PATH     config with the API keys (default $SWITCHYARD_CONFIG, then ./switchyard.config.ts)
  --api-keys FILE   JSON or YAML file of more keys, the same map as gateway.apiKeys (keys change
                    more often than routes, and need not live in the fleet's config)
  --listen H:P      address to serve (default 127.0.0.1:8080; 0.0.0.0:8080 in a container)
  --nats URL,...    NATS servers (default $NATS_URL, then nats://127.0.0.1:4222)
  --log-level L     pino level of the JSON log on stdout (default info)

Requests may add x-switchyard-use-case (one the key allows), x-switchyard-priority (up to the
key's ceiling) and x-switchyard-deadline-ms. Answers name x-request-id (request-id for
Anthropic), x-switchyard-deployment and x-switchyard-model.

\`switchyard gateway key\` prints a new key once, and the gateway.apiKeys entry to paste into the
config, which holds only the key's SHA-256.
`;

export const gatewayFlags = {
  config: { type: 'string' },
  'api-keys': { type: 'string' },
  listen: { type: 'string', default: '127.0.0.1:8080' },
  nats: { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
} as const;

export async function gateway(args: readonly string[], io: CliIo): Promise<ExitCode> {
  if (args[0] === 'key') return makeKey(args.slice(1), io);
  const { values, positionals } = parseFlags('gateway', args, gatewayFlags);
  noPositionals('gateway', positionals);
  const { host, port } = parseListen(values.listen);
  const { config, file } = await loadConfig({ flag: values.config, cwd: io.cwd, env: io.env });
  const extraKeys = values['api-keys'] ? await loadApiKeysFile(path.resolve(io.cwd, values['api-keys']), config) : {};
  if (Object.keys(config.gateway.apiKeys).length + Object.keys(extraKeys).length === 0) io.stderr(`switchyard gateway: ${file} has no gateway.apiKeys and no --api-keys file was given, so every request will get 401; make a key with \`switchyard gateway key\`.\n`);
  const log = createLogger({ level: values['log-level'], base: { component: 'gateway' } });
  const shutdown = io.shutdown ?? new Promise<never>(() => {});
  const nats = natsOptions(values.nats, io.env, 'switchyard-gateway');
  const connection = await connectNatsPatiently(nats, {
    stop: shutdown,
    onWaiting: (error, attempt) => {
      if (attempt === 1) io.stderr(`switchyard gateway: ${error.message}\n${error.hint}\nRetrying every 2 s; Ctrl-C stops.\n`);
    },
  });
  if (!connection) return ExitCode.Failed;
  logConnection(connection, log);
  const running = await startGateway({ connection, config, host, port, log, extraKeys });
  io.stdout(`Gateway serving ${running.url} with ${running.keys} API key(s) from ${file}, over NATS ${connection.getServer()}. Ctrl-C stops.\n`);
  await shutdown;
  io.stdout('Stopping the gateway...\n');
  await running.close();
  await closeNats(connection);
  return ExitCode.Ok;
}

export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(.*):(\d{1,5})$/.exec(listen);
  const port = Number(match?.[2]);
  if (!match || port > 65_535) throw new UsageError(`switchyard gateway: --listen expects HOST:PORT (e.g. 127.0.0.1:8080), got "${listen}"`);
  return { host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port };
}

function makeKey(args: readonly string[], io: CliIo): ExitCode {
  const { values, positionals } = parseFlags('gateway key', args, {
    name: { type: 'string', default: 'my-app' },
    tenant: { type: 'string' },
    'use-cases': { type: 'string', default: 'otherwise' },
    'max-priority': { type: 'string', default: 'standard' },
    models: { type: 'string' },
  });
  noPositionals('gateway key', positionals);
  const priority = values['max-priority'];
  if (!(PRIORITIES as readonly string[]).includes(priority)) throw new UsageError(`switchyard gateway key: --max-priority expects one of ${PRIORITIES.join(', ')}, got "${priority}"`);
  const list = (text: string | undefined) => text?.split(',').map((s) => s.trim()).filter(Boolean);
  const { key, sha256 } = newApiKey();
  const entry = {
    sha256,
    ...(values.tenant ? { tenant: values.tenant } : {}),
    useCases: list(values['use-cases']),
    maxPriority: priority as Priority,
    ...(values.models ? { models: list(values.models) } : {}),
  };
  io.stdout(`API key (shown once; the config keeps only its hash):\n  ${key}\n\nAdd to the config:\n${stringify({ gateway: { apiKeys: { [values.name]: entry } } }, { indent: 2 })}`);
  return ExitCode.Ok;
}
