/** The simulator as its users run it: the admin API, faults over NATS, quotas, and `switchyard simulate` as a process. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { seedConfig } from '../helpers/simulator.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function simulate(extra: { nats?: string[]; config?: Config } = {}): Promise<RunningSimulator> {
  const simulator = await startSimulator({ config: extra.config ?? (await seedConfig()), latencyScale: 0, nats: extra.nats });
  cleanups.push(() => simulator.close());
  return simulator;
}

async function call(url: string, init: { method?: 'GET' | 'POST' | 'DELETE'; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await request(url, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  return { status: response.statusCode, headers: response.headers, json: (await response.body.json()) as Record<string, unknown> };
}

const anthropicBody = { model: 'claude-sonnet-4-20250514', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };

describe('vendor simulator service', () => {
  it('adds, lists and removes faults through the admin API, naming a bad field', async () => {
    const simulator = await simulate();
    const added = await call(`${simulator.admin}/faults`, { method: 'POST', body: { vendorRegion: 'anthropic', kind: 'overload', durationMs: 5000 } });
    expect(added.status).toBe(201);
    const listed = await call(`${simulator.admin}/faults`);
    expect(listed.json).toMatchObject([{ id: added.json.id, fault: { kind: 'overload', vendorRegion: 'anthropic' } }]);
    const bad = await call(`${simulator.admin}/faults`, { method: 'POST', body: { vendorRegion: 'anthropic', kind: 'brownout', factor: 0.5 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/^factor: /);
    const unknown = await call(`${simulator.admin}/faults`, { method: 'POST', body: { vendorRegion: 'bedrock/us-east-9', kind: 'hang' } });
    expect(unknown.json.error).toContain('unknown vendor-region "bedrock/us-east-9"; known: anthropic,');
    expect((await call(`${simulator.admin}/faults/${String(added.json.id)}`, { method: 'DELETE' })).status).toBe(200);
    expect((await call(`${simulator.admin}/faults`)).json).toEqual([]);
  });

  it('enforces a deployment quota with the vendor 429 and its rate-limit headers', async () => {
    const config = await seedConfig();
    config.vendorRegions.anthropic!.deployments['claude-sonnet-4']!.quota = { rpm: 2, tpm: 1_000_000, concurrency: 10 };
    const simulator = await simulate({ config });
    const url = `${simulator.endpoints().anthropic}/v1/messages`;
    const headers = { 'x-api-key': simulator.credentials.apiKey, 'anthropic-version': '2023-06-01' };
    const first = await call(url, { method: 'POST', body: anthropicBody, headers });
    expect(first.status).toBe(200);
    expect(first.headers['anthropic-ratelimit-requests-remaining']).toBe('1');
    await call(url, { method: 'POST', body: anthropicBody, headers });
    const limited = await call(url, { method: 'POST', body: anthropicBody, headers });
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('answers malformed requests with the vendor 400 shape', async () => {
    const simulator = await simulate();
    const url = `${simulator.endpoints().anthropic}/v1/messages`;
    const headers = { 'x-api-key': simulator.credentials.apiKey, 'anthropic-version': '2023-06-01' };
    const notJson = await call(url, { method: 'POST', body: '{"model":', headers });
    expect(notJson.status).toBe(400);
    expect(notJson.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const missing = await call(url, { method: 'POST', body: { model: 'claude-sonnet-4-20250514', messages: [] }, headers });
    expect(missing.status).toBe(400);
    expect(String((missing.json.error as { message: string }).message)).toMatch(/max_tokens|messages/);
  });

  it('takes faults from sy.chaos.<vendor>.<region> over NATS', async () => {
    const nats: NatsServerHandle = await startNatsServer();
    cleanups.push(() => nats.stop());
    const simulator = await simulate({ nats: [nats.url] });
    const client = await connect({ servers: nats.url });
    cleanups.push(() => client.close());
    const reply = await client.request('sy.chaos.bedrock.us-east-1', JSON.stringify({ kind: 'throttle', durationMs: 5000 }), { timeout: 5000 });
    expect(reply.json<{ id: string }>().id).toMatch(/^fault-/);
    expect(simulator.simulation.faults.matching('bedrock/us-east-1')).toHaveLength(1);
    const global = await client.request('sy.chaos.anthropic.global', JSON.stringify({ kind: 'hang' }), { timeout: 5000 });
    expect(global.json<{ id: string }>().id).toBeDefined();
    expect(simulator.simulation.faults.matching('anthropic')[0]?.fault.kind).toBe('hang');
    const invalid = await client.request('sy.chaos.anthropic.global', JSON.stringify({ kind: 'meltdown' }), { timeout: 5000 });
    expect(invalid.json<{ error: string }>().error).toMatch(/^kind: /);
  });

  it('runs as `switchyard simulate --json`: endpoints on the first line, clean exit on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/switchyard.js', 'simulate', '--json', '--latency-scale', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
      return Promise.resolve();
    });
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`simulate exited with ${code}`)));
    });
    const { endpoints, admin, credentials, models } = JSON.parse(firstLine) as {
      endpoints: Record<string, string>;
      admin: string;
      credentials: { apiKey: string; aws: { accessKeyId: string }; serviceAccount: { client_email: string } };
      models: Record<string, { model: string; vendorModelId: string }[]>;
    };
    expect(Object.keys(endpoints).sort()).toEqual(['anthropic', 'azure/eastus', 'bedrock/us-east-1', 'bedrock/us-west-2', 'openai', 'vertex/us-east5']);
    expect((await call(`${admin}/healthz`)).json).toEqual({ ok: true });
    // What a client must send, and the model ids each vendor-region serves, are on that line too.
    expect(credentials.aws.accessKeyId).toMatch(/^AKID/);
    expect(credentials.serviceAccount.client_email).toContain('@');
    expect(models.openai).toEqual([{ model: 'gpt-4.1', vendorModelId: 'gpt-4.1-2025-04-14' }]);
    const listed = await call(`${endpoints.openai}/v1/models`, { headers: { authorization: `Bearer ${credentials.apiKey}` } });
    expect(listed).toMatchObject({ status: 200, json: { object: 'list', data: [{ id: 'gpt-4.1-2025-04-14', object: 'model' }] } });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(request(`${admin}/healthz`)).rejects.toThrow();
  });
});
