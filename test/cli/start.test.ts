/**
 * `switchyard start` as a supervisor sees it: it says at once what it lacks (NATS it cannot reach,
 * credentials it cannot find), stops on the first Ctrl-C, and ends with 0 after a drain asked for
 * with `switchyard drain NODE`, once its work is done.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.js';
import { gatherStatus } from '../../src/cli/commands/status.js';
import { connectNats } from '../../src/transport/index.js';
import { FaultSchema, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { freePort, startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { simulatorFleet, startNodeProcess, type NodeProcess } from '../helpers/router-nodes.js';
import { seedConfig } from '../helpers/simulator.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const request = { model: 'claude-sonnet-4', maxTokens: 200, messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'drain me gently' }] }] };

let nats: NatsServerHandle | undefined;
let simulator: RunningSimulator | undefined;
const children: ChildProcess[] = [];
const nodes: NodeProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(nodes.splice(0).map((n) => n.kill('SIGKILL')));
  await simulator?.close();
  await nats?.stop();
  nats = simulator = undefined;
});

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('switchyard start', () => {
  it('against a dead NATS address says so at once, keeps trying, and stops on one SIGINT', async () => {
    const dead = `nats://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const child = spawn(process.execPath, ['bin/switchyard.js', 'start', '--config', 'examples/seed.config.yaml', '--env', 'us_prod', '--nats', dead], {
      cwd: root,
      env: { ...process.env, ANTHROPIC_API_KEY: 'x', OPENAI_API_KEY: 'x', AZURE_OPENAI_API_KEY: 'x', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', GOOGLE_APPLICATION_CREDENTIALS: '{}' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await until(() => stderr.includes('cannot reach NATS'), 'the error about NATS');
    const saidAfter = Date.now() - started;
    expect(stderr).toContain(`cannot reach NATS at ${dead}`);
    expect(stderr).toContain('Retrying every 2 s; Ctrl-C stops.');
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(1);
    expect(stderr).toContain('stopped before NATS answered');
    console.log(`switchyard start against a dead NATS: said so ${saidAfter} ms after launch (process start included), exited on the first SIGINT`);
  });

  it('names every missing credential, marks those vendor-regions unusable in status, and serves with the rest', async () => {
    nats = await startNatsServer();
    simulator = await startSimulator({ config: await seedConfig(), latencyScale: 0 });
    const fleet = await simulatorFleet(simulator);
    const { ANTHROPIC_API_KEY: _a, AWS_ACCESS_KEY_ID: _b, ...env } = fleet.env;
    const node = await startNodeProcess({ nodeId: 'n1', configFile: fleet.configFile, seeds: fleet.seeds, env: { ...env, ANTHROPIC_API_KEY: '', AWS_ACCESS_KEY_ID: '' }, nats: [nats.url] });
    nodes.push(node);
    expect(node.output()).toContain('anthropic is unusable on this node: missing $ANTHROPIC_API_KEY (apiKey)');
    expect(node.output()).toContain('bedrock/us-east-1 is unusable on this node: missing $AWS_ACCESS_KEY_ID (accessKeyId)');
    expect(node.output()).toContain('bedrock/us-west-2 is unusable on this node: missing $AWS_ACCESS_KEY_ID (accessKeyId)');
    const observer = await connectNats({ servers: [nats.url], name: 'observer' });
    try {
      const status = await gatherStatus(observer);
      expect(status.nodes[0]?.fleet.vendorRegions).toMatchObject({ anthropic: 'unusable', 'bedrock/us-east-1': 'unusable', 'vertex/us-east5': 'healthy' });
      expect(status.deployments['claude-sonnet-4@anthropic']?.merged).toBe('unusable');
      const client = await createClient({ connection: observer });
      // conversation_serving: LatencyBased(vertex/us-east5, anthropic, bedrock/us-east-1): only Vertex is left.
      const answers = await Promise.all(Array.from({ length: 4 }, () => client.complete(request, { useCase: 'conversation_serving' })));
      expect(answers.every((a) => a.servedBy.deployment === 'claude-sonnet-4@vertex/us-east5')).toBe(true);
      await client.close();
    } finally {
      await observer.close();
    }
  });

  it('ends with exit 0 once `switchyard drain NODE` is done, after the request in flight finishes; --stay-drained keeps it up', async () => {
    nats = await startNatsServer();
    simulator = await startSimulator({ config: await seedConfig(), latencyScale: 0 });
    for (const vendorRegion of ['anthropic', 'bedrock/us-west-2']) simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion, kind: 'drip', intervalMs: 20 }));
    const fleet = await simulatorFleet(simulator);
    const [leaving, staying] = await Promise.all([
      startNodeProcess({ nodeId: 'n1', ...fleet, nats: [nats.url] }),
      startNodeProcess({ nodeId: 'n2', ...fleet, nats: [nats.url], args: ['--stay-drained'] }),
    ]);
    nodes.push(leaving, staying);
    const client = await createClient({ servers: nats.url });
    try {
      const inFlight = Array.from({ length: 4 }, () => client.complete(request, { useCase: 'otherwise' }));
      const begun = () => Object.values(simulator?.simulation.stats.snapshot() ?? {}).reduce((sum, s) => sum + s.streams, 0);
      await until(() => begun() >= 4, 'the four requests to reach the vendors');
      for (const node of ['n1', 'n2']) {
        const drained = spawn(process.execPath, ['bin/switchyard.js', 'drain', node, '--nats', nats.url], { cwd: root, stdio: 'ignore' });
        expect(await exitOf(drained)).toBe(0);
      }
      expect((await Promise.allSettled(inFlight)).map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      expect(await leaving.exited).toBe(0);
      expect(leaving.output()).toContain('Router node n1 drained on request; its work is done.');
      await until(() => staying.output().includes('Staying up (--stay-drained) until Ctrl-C.'), 'n2 to say it stays');
      expect(staying.child.exitCode).toBe(null);
      expect(await staying.kill('SIGINT')).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('with --simulator URL routes the config to that simulator and its test credentials, with no credentials in the environment', async () => {
    nats = await startNatsServer();
    simulator = await startSimulator({ config: await seedConfig(), latencyScale: 0 });
    const bare = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/API_KEY|^AWS_|^GOOGLE_/.test(k)));
    const child = spawn(process.execPath, ['bin/switchyard.js', 'start', '--config', 'examples/seed.config.yaml', '--env', 'us_prod', '--node-id', 'aimed', '--simulator', simulator.admin], {
      cwd: root,
      env: { ...bare, NATS_URL: nats.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await until(() => stdout.includes('serving environment'), 'the node to serve');
    expect(stdout).toContain(`Routing to the vendor simulator at ${simulator.admin}`);
    expect(stderr).not.toContain('unusable');
    const client = await createClient({ servers: nats.url });
    try {
      for (const model of ['claude-sonnet-4', 'gpt-4.1']) {
        const { servedBy } = await client.complete({ ...request, model }, { useCase: 'conversation_serving' });
        expect(servedBy.model).toBe(model);
      }
    } finally {
      await client.close();
    }
    const requests = Object.values(simulator.simulation.stats.snapshot()).reduce((sum, s) => sum + s.requests, 0);
    expect(requests).toBe(2);
  });
});
