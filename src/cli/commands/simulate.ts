/** `switchyard simulate`: the simulated vendors of a fleet on loopback, until SIGINT or SIGTERM. */
import { UsageError } from '../../domain/index.js';
import path from 'node:path';
import { loadConfig, readConfigData } from '../../config/index.js';
import { LatencyProfileSchema, startSimulator } from '../../simulator/index.js';
import { noPositionals, parseFlags } from '../args.js';
import { natsOptions } from '../nats-options.js';
import { ExitCode, type CliIo } from '../io.js';

export const simulateHelp = `Usage: switchyard simulate [--config PATH] [--host 127.0.0.1] [--port 0] [--seed N] [--json]
                          [--latency PATH] [--latency-scale X] [--time-scale X] [--nats URL,...]

Serves one simulated vendor per vendor-region of the config (default: the example fleet), each
speaking its vendor's wire protocol with authentication, quotas, a latency model, deterministic
answers and faults on command. Stops cleanly on Ctrl-C or SIGTERM.

  --config PATH        config whose vendor-regions to simulate; default $SWITCHYARD_CONFIG,
                       ./switchyard.config.ts, then the example fleet
  --host HOST          address to bind (default 127.0.0.1)
  --port N             0 (default): ephemeral ports; N: the admin API on N, vendor-regions on N+1, N+2, ...
  --seed N             seed of answers and latencies (default 1)
  --latency PATH       YAML or JSON: vendor-region or deployment id (model@vendor-region) →
                       { ttftMs: { median, p95 }, tokensPerSecond: { mean, sd }, drift: { amplitude, phase } }
  --latency-scale X    multiply every simulated delay (0 answers at once; default 1)
  --time-scale X       run the simulated day X times faster than real time (default 1)
  --nats URL,...       also take faults from sy.chaos.<vendor>.<region> (default $NATS_URL when set)
  --json               first stdout line: {"endpoints", "admin", "credentials", "models"}: each
                       vendor-region's URL, the test credentials a client must send, and the
                       vendor model ids each vendor-region serves

To route through it, point each vendor-region's baseUrl in the router's config at its URL
(Vertex also takes tokenUrl: <its URL>/token) and give the router the test credentials in the
variables the config names; \`switchyard dev\` does all of this for you. OpenAI and Anthropic
also list their models at GET <URL>/v1/models, as the real APIs do.
`;

function number(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`switchyard simulate: ${flag} expects a number >= 0, got "${value}"`);
  return n;
}

export const simulateFlags = {
  config: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '0' },
  seed: { type: 'string', default: '1' },
  latency: { type: 'string' },
  'latency-scale': { type: 'string' },
  'time-scale': { type: 'string' },
  nats: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export async function simulate(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseFlags('simulate', args, simulateFlags);
  noPositionals('simulate', positionals);
  const port = number('--port', values.port, 0);
  if (!Number.isInteger(port) || port > 65535) throw new UsageError(`switchyard simulate: --port expects a port number, got "${values.port}"`);
  const { config, file } = await loadConfig({ flag: values.config, cwd: io.cwd, env: io.env, fallbackToExample: true });
  const nats = (values.nats ?? io.env.NATS_URL)?.split(',').map((s) => s.trim()).filter(Boolean);

  const latency = values.latency === undefined ? undefined : await readLatency(path.resolve(io.cwd, values.latency));

  const simulator = await startSimulator({
    latency,
    config,
    host: values.host,
    port,
    seed: number('--seed', values.seed, 1),
    latencyScale: number('--latency-scale', values['latency-scale'], 1),
    timeScale: number('--time-scale', values['time-scale'], 1),
    nats,
    ...(nats ? { natsAuth: natsOptions(values.nats, io.env, 'switchyard-simulator').auth, natsTls: natsOptions(values.nats, io.env, 'switchyard-simulator').tls } : {}),
  });
  const endpoints = simulator.endpoints();
  if (values.json) {
    const { apiKey, aws, serviceAccount } = simulator.credentials;
    const models = Object.fromEntries(Object.values(config.vendorRegions).map((vr) => [vr.id, Object.values(vr.deployments).map((d) => ({ model: d.model, vendorModelId: d.vendorModelId }))]));
    io.stdout(`${JSON.stringify({ endpoints, admin: simulator.admin, credentials: { apiKey, aws, serviceAccount }, models })}\n`);
  } else {
    const width = Math.max(...Object.keys(endpoints).map((k) => k.length));
    io.stdout(
      [
        `Simulating ${Object.keys(endpoints).length} vendor-regions of ${file}:`,
        ...Object.entries(endpoints).map(([id, url]) => `  ${id.padEnd(width)}  ${url}`),
        `Admin API: ${simulator.admin}  (GET /credentials for the test keys; POST /faults to inject a fault)`,
        nats ? `Taking faults from NATS on sy.chaos.<vendor>.<region> (${nats.join(', ')}).` : '',
        'Press Ctrl-C to stop.',
        '',
      ].filter((line, i, all) => line !== '' || i === all.length - 1).join('\n'),
    );
  }
  await (io.shutdown ?? new Promise(() => {}));
  await simulator.close();
  return ExitCode.Ok;
}

/** Latency profiles by vendor-region or deployment id, each checked so a typo names its field. */
async function readLatency(file: string): Promise<Record<string, unknown>> {
  const data = await readConfigData(file);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`switchyard simulate: --latency ${file} must map vendor-region or deployment ids to latency profiles`);
  }
  for (const [key, profile] of Object.entries(data)) {
    const parsed = LatencyProfileSchema.safeParse(profile);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UsageError(`switchyard simulate: --latency ${key}.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`, 'Fix the latency file and run again.');
    }
  }
  return data as Record<string, unknown>;
}
