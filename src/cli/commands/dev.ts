/**
 * `switchyard dev` (what `npm start` runs): the whole thing on one machine. A local nats-server
 * (unless NATS_URL is set), the vendor simulator with the example fleet, one router node routing
 * to it, and the HTTP gateway with a development API key; prints what to try next, and stops
 * everything cleanly on Ctrl-C.
 */
import { startRouterNode } from '../../../actors/node.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { loadConfig, type ApiKeyEntry, type Config } from '../../config/index.js';
import { OTHERWISE } from '../../domain/index.js';
import { newApiKey, startGateway, type RunningGateway } from '../../gateway/index.js';
import { configForSimulator, simulatorSecretsFor, startSimulator } from '../../simulator/index.js';
import { createLogger } from '../../observability/index.js';
import { closeNats, connectNats, generateSigner } from '../../transport/index.js';
import { noPositionals, parseFlags } from '../args.js';
import { ExitCode, type CliIo } from '../io.js';
import { startLocalNats, type LocalNats } from '../local-nats.js';
import { natsOptions } from '../nats-options.js';
import { parseListen } from './gateway.js';

export const devHelp = `Usage: switchyard dev [--config PATH] [--env NAME] [--latency-scale X] [--gateway HOST:PORT] [--json]

Starts nats-server (unless NATS_URL is set), the vendor simulator for the config's fleet (default:
the example fleet), one router node routing to the simulator, and the HTTP gateway with a
development API key made for this run; Ctrl-C stops them all, and so does draining the node
(\`switchyard drain dev-1\`).

  --config PATH        config (default $SWITCHYARD_CONFIG, ./switchyard.config.ts, then the example)
  --env NAME           environment to route (default us_prod, or the config's first)
  --latency-scale X    multiply the simulator's latencies (default 0.25: quick but not instant)
  --gateway H:P        where the gateway listens (default 127.0.0.1:8080; a free port if that is taken)
  --json               first stdout line: {"nats", "simulator": {"endpoints", "admin"}, "nodes",
                       "gateway": {"url", "apiKey"}}
`;

export const devFlags = {
  config: { type: 'string' },
  env: { type: 'string' },
  'latency-scale': { type: 'string', default: '0.25' },
  gateway: { type: 'string', default: '127.0.0.1:8080' },
  json: { type: 'boolean', default: false },
} as const;

export async function dev(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseFlags('dev', args, devFlags);
  noPositionals('dev', positionals);
  const listen = parseListen(values.gateway);
  const { config, file } = await loadConfig({ flag: values.config, cwd: io.cwd, env: io.env, fallbackToExample: true });
  const environments = Object.values(config.routes).flatMap((e) => Object.keys(e));
  const environment = values.env ?? (environments.includes('us_prod') ? 'us_prod' : (environments[0] ?? 'default'));

  const cleanup: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    while (cleanup.length > 0) await cleanup.pop()?.().catch(() => undefined);
  };
  try {
    let nats: LocalNats | undefined;
    if (!io.env.NATS_URL) {
      nats = await startLocalNats(io.env.NATS_SERVER_BIN || 'nats-server');
      cleanup.push(() => nats!.stop());
    }
    const servers = nats ? nats.url : undefined;
    const simulator = await startSimulator({ config, latencyScale: Number(values['latency-scale']) });
    cleanup.push(() => simulator.close());
    const connection = await connectNats(natsOptions(servers, io.env, 'switchyard-dev'));
    cleanup.push(() => closeNats(connection));
    const nodeId = 'dev-1';
    // Each node dev starts gets a key of its own, trusted by the fleet's config, as in production.
    const { signer } = generateSigner();
    const routed = { ...configForSimulator(config, simulator.endpoints()), routers: { ...config.routers, trustedKeys: { [nodeId]: [signer.publicKey] } } };
    const node = startRouterNode({
      connection,
      config: routed,
      nodeId,
      deps: { secrets: simulatorSecretsFor(config, simulator.credentials) },
      system: { environment },
      graceMs: 5_000,
      signer,
      log: createLogger({ level: 'warn', base: { node: nodeId } }),
    });
    cleanup.push(() => node.drain(5_000));
    const dev = developmentKey(config);
    const gateway = await startDevGateway(connection, config, listen, dev.entry);
    cleanup.push(() => gateway.close());
    const natsUrl = connection.getServer();
    const url = natsUrl.startsWith('nats://') ? natsUrl : `nats://${natsUrl}`;
    if (values.json) {
      const gatewayInfo = { url: gateway.url, apiKey: dev.key };
      io.stdout(`${JSON.stringify({ nats: url, simulator: { endpoints: simulator.endpoints(), admin: simulator.admin }, nodes: [nodeId], environment, gateway: gatewayInfo })}\n`);
    } else {
      io.stdout(
        [
          'Switchyard is running.',
          `  NATS        ${url}${nats ? ' (started here)' : ' (from NATS_URL)'}`,
          `  simulator   ${Object.keys(simulator.endpoints()).length} vendor-regions of ${file}; admin API ${simulator.admin}`,
          `  router      node ${nodeId}, environment ${environment}`,
          `  gateway     ${gateway.url} (OpenAI and Anthropic APIs), development API key ${dev.key}`,
          '',
          'Try:',
          `  npx switchyard send --nats ${url} --usecase conversation_serving "Hello, Switchyard"`,
          `  npx switchyard status --nats ${url}`,
          `  curl -s ${gateway.url}/v1/chat/completions -H 'authorization: Bearer ${dev.key}' \\`,
          `    -H 'content-type: application/json' -d '{"model":"gpt-4.1","messages":[{"role":"user","content":"Hello"}]}'`,
          '',
          'Or from code, with the official SDKs (only the base URL and key change):',
          `  new OpenAI({ baseURL: '${gateway.url}/v1', apiKey: '${dev.key}' })`,
          `  new Anthropic({ baseURL: '${gateway.url}', apiKey: '${dev.key}' })`,
          '',
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
    }
    // Ctrl-C, or `switchyard drain dev-1`: either way everything stops, as a drained `start` node exits.
    const why = await Promise.race([(io.shutdown ?? new Promise(() => {})).then(() => 'signal'), node.stopped.then(() => 'drained')]);
    io.stdout(why === 'drained' ? `Router node ${nodeId} drained on request; stopping...\n` : 'Stopping...\n');
  } finally {
    await stopAll();
  }
  return ExitCode.Ok;
}

/** A key for this run only, that may speak as every use case the config routes, at any priority. */
function developmentKey(config: Config): { key: string; entry: Record<string, ApiKeyEntry> } {
  const useCases = new Set<string>([OTHERWISE]);
  for (const environments of Object.values(config.routes)) for (const byUseCase of Object.values(environments)) for (const u of Object.keys(byUseCase)) useCases.add(u);
  for (const pool of Object.values(config.pools)) for (const u of pool.useCases) useCases.add(u);
  const { key, sha256 } = newApiKey();
  return { key, entry: { development: { sha256, useCases: [...useCases], maxPriority: 'critical' } } };
}

/** On the asked address, or on a free port when another program holds it: dev must start. */
async function startDevGateway(connection: NatsConnection, config: Config, listen: { host: string; port: number }, extraKeys: Record<string, ApiKeyEntry>): Promise<RunningGateway> {
  try {
    return await startGateway({ connection, config, ...listen, extraKeys });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return startGateway({ connection, config, host: listen.host, port: 0, extraKeys });
  }
}
