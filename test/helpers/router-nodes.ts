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

/** The example config with every vendor-region at the simulator, and the environment its secrets need. */
export async function simulatorFleet(simulator: RunningSimulator): Promise<{ configFile: string; env: Record<string, string> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'switchyard-nodes-'));
  const data = (await readConfigData(path.join(root, 'examples/seed.config.yaml'))) as { vendorRegions: Record<string, Record<string, unknown>> };
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

export async function startNodeProcess(options: { nodeId: string; configFile: string; env: Record<string, string>; nats: string[]; environment?: string; graceMs?: number }): Promise<NodeProcess> {
  const child = spawn(
    process.execPath,
    ['bin/switchyard.js', 'start', '--config', options.configFile, '--env', options.environment ?? 'us_prod', '--node-id', options.nodeId, '--grace-ms', String(options.graceMs ?? 5000)],
    { cwd: root, env: { ...process.env, ...options.env, NATS_URL: options.nats.join(',') }, stdio: ['ignore', 'pipe', 'pipe'] },
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
