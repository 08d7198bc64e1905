/**
 * Router nodes as child processes (`switchyard start`), the way operators run them, pointed at an
 * in-process simulator through a config file and credentials in their environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { nkeys } from '@nats-io/transport-node';
import { readConfigData } from '../../src/config/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface NodeProcess {
  nodeId: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SimulatorFleet {
  configFile: string;
  /** The variables every node's secrets need. */
  env: Record<string, string>;
  /** Each node id's NKey seed; the config trusts their public keys. */
  seeds: Record<string, string>;
}

/** Node ids the fleet's config trusts, each with a key of its own. */
export const FLEET_NODE_IDS = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];

/**
 * A config (the example one unless given) with every vendor-region at the simulator, the
 * environment its secrets need, and trusted node keys.
 */
export async function simulatorFleet(simulator: RunningSimulator, config?: object): Promise<SimulatorFleet> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'switchyard-nodes-'));
  const data = structuredClone(config ?? (await readConfigData(path.join(root, 'examples/seed.config.yaml')))) as { vendorRegions: Record<string, Record<string, unknown>>; routers?: unknown };
  const keys = FLEET_NODE_IDS.map((id) => ({ id, kp: nkeys.createUser() }));
  data.routers = { trustedKeys: Object.fromEntries(keys.map(({ id, kp }) => [id, kp.getPublicKey()])) };
  const seeds = Object.fromEntries(keys.map(({ id, kp }) => [id, new TextDecoder().decode(kp.getSeed())]));
  const endpoints = simulator.endpoints();
  for (const [id, vendorRegion] of Object.entries(data.vendorRegions)) {
    const url = endpoints[id];
    if (!url) continue;
    vendorRegion.baseUrl = url;
    if (id.startsWith('vertex/')) vendorRegion.tokenUrl = `${url}/token`;
  }
  const configFile = path.join(dir, 'switchyard.config.json');
  await writeFile(configFile, JSON.stringify(data));
  const keyFile = path.join(dir, 'vertex-key.json');
  await writeFile(keyFile, JSON.stringify(simulator.credentials.serviceAccount));
  const { apiKey, aws } = simulator.credentials;
  return {
    configFile,
    seeds,
    env: {
      ANTHROPIC_API_KEY: apiKey,
      OPENAI_API_KEY: apiKey,
      AZURE_OPENAI_API_KEY: apiKey,
      AWS_ACCESS_KEY_ID: aws.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
      AWS_SESSION_TOKEN: '',
      GOOGLE_APPLICATION_CREDENTIALS: keyFile,
    },
  };
}

export async function startNodeProcess(options: {
  nodeId: string;
  configFile: string;
  env: Record<string, string>;
  seeds?: Record<string, string>;
  nats: string[];
  environment?: string;
  graceMs?: number;
  args?: string[];
}): Promise<NodeProcess> {
  const seed = options.seeds?.[options.nodeId];
  const child = spawn(
    process.execPath,
    ['bin/switchyard.js', 'start', '--config', options.configFile, '--env', options.environment ?? 'us_prod', '--node-id', options.nodeId, '--grace-ms', String(options.graceMs ?? 5000), ...(options.args ?? [])],
    { cwd: root, env: { ...process.env, ...options.env, NATS_URL: options.nats.join(','), ...(seed ? { SWITCHYARD_NODE_SEED: seed } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      output += `${line}\n`;
      if (line.includes('serving environment')) resolve();
    });
    void exited.then((code) => reject(new Error(`router node ${options.nodeId} exited with ${code}: ${output}`)));
  });
  return {
    nodeId: options.nodeId,
    child,
    output: () => output,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
