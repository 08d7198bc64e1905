/**
 * `switchyard dev` (what `npm start` runs): the whole thing on one machine. A local nats-server
 * (unless NATS_URL is set), the vendor simulator with the example fleet, and one router node
 * routing to it; prints what to try next, and stops everything cleanly on Ctrl-C.
 */
import { startRouterNode } from '../../../actors/node.js';
import { loadConfig } from '../../config/index.js';
import { configForSimulator, simulatorSecretsFor, startSimulator } from '../../simulator/index.js';
import { createLogger } from '../../observability/index.js';
import { closeNats, connectNats, generateSigner } from '../../transport/index.js';
import { noPositionals, parseFlags } from '../args.js';
import { ExitCode, type CliIo } from '../io.js';
import { startLocalNats, type LocalNats } from '../local-nats.js';
import { natsOptions } from '../nats-options.js';

export const devHelp = `Usage: switchyard dev [--config PATH] [--env NAME] [--latency-scale X] [--json]

Starts nats-server (unless NATS_URL is set), the vendor simulator for the config's fleet (default:
the example fleet), and one router node routing to the simulator; Ctrl-C stops them all, and so
does draining the node (\`switchyard drain dev-1\`).

  --config PATH        config (default $SWITCHYARD_CONFIG, ./switchyard.config.ts, then the example)
  --env NAME           environment to route (default us_prod, or the config's first)
  --latency-scale X    multiply the simulator's latencies (default 0.25: quick but not instant)
  --json               first stdout line: {"nats", "simulator": {"endpoints", "admin"}, "nodes"}
`;

export async function dev(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseFlags('dev', args, {
    config: { type: 'string' },
    env: { type: 'string' },
    'latency-scale': { type: 'string', default: '0.25' },
    json: { type: 'boolean', default: false },
  });
  noPositionals('dev', positionals);
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
    const natsUrl = connection.getServer();
    const url = natsUrl.startsWith('nats://') ? natsUrl : `nats://${natsUrl}`;
    if (values.json) {
      io.stdout(`${JSON.stringify({ nats: url, simulator: { endpoints: simulator.endpoints(), admin: simulator.admin }, nodes: [nodeId], environment })}\n`);
    } else {
      io.stdout(
        [
          'Switchyard is running.',
          `  NATS        ${url}${nats ? ' (started here)' : ' (from NATS_URL)'}`,
          `  simulator   ${Object.keys(simulator.endpoints()).length} vendor-regions of ${file}; admin API ${simulator.admin}`,
          `  router      node ${nodeId}, environment ${environment}`,
          '',
          'Try:',
          `  npx switchyard send --nats ${url} --usecase conversation_serving "Hello, Switchyard"`,
          `  npx switchyard status --nats ${url}`,
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
