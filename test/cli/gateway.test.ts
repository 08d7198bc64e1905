/**
 * `switchyard gateway` as an operator runs it: `gateway key` makes a key whose config entry holds
 * only its hash, the gateway process takes keys from an --api-keys file, and a bad file is refused
 * naming the field.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../src/cli/index.js';
import { hashKey } from '../../src/gateway/index.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let nats: NatsServerHandle | undefined;
const stops: (() => void)[] = [];
afterEach(async () => {
  while (stops.length > 0) stops.pop()?.();
  await nats?.stop();
  nats = undefined;
});

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli({ argv, env: {}, cwd: root, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('switchyard gateway', () => {
  it('makes a key, serves with it from an --api-keys file, and refuses a bad file naming the field', async () => {
    const made = await cli(['gateway', 'key', '--name', 'billing', '--tenant', 'acme-corp', '--use-cases', 'otherwise,conversation_serving', '--max-priority', 'high']);
    expect(made.code).toBe(0);
    const key = made.stdout.match(/^\s+(sk-sy-[\w-]{43})$/m)?.[1];
    expect(key).toBeDefined();
    const entry = (parse(made.stdout.slice(made.stdout.indexOf('gateway:'))) as { gateway: { apiKeys: Record<string, { sha256: string; tenant: string }> } }).gateway.apiKeys;
    expect(entry.billing).toMatchObject({ sha256: hashKey(key!), tenant: 'acme-corp', useCases: ['otherwise', 'conversation_serving'], maxPriority: 'high' });
    expect(made.stdout.split(key!)).toHaveLength(2);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'switchyard-gateway-'));
    const keysFile = path.join(dir, 'keys.json');
    await writeFile(keysFile, JSON.stringify(entry));
    nats = await startNatsServer();
    const child = spawn(process.execPath, ['bin/switchyard.js', 'gateway', '--config', 'examples/seed.config.yaml', '--api-keys', keysFile, '--listen', '127.0.0.1:0', '--nats', nats.url, '--log-level', 'silent'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stops.push(() => child.exitCode === null && child.kill('SIGKILL'));
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
    });
    expect(line).toMatch(/^Gateway serving http:\/\/127\.0\.0\.1:\d+ with 1 API key\(s\)/);
    const url = line.match(/(http:\/\/[\d.:]+)/)![1]!;
    const models = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual(['claude-sonnet-4', 'gpt-4.1']);
    expect((await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer sk-sy-wrong' } })).status).toBe(401);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);

    await writeFile(keysFile, JSON.stringify({ billing: { ...entry.billing, tenant: 'acme-crop' } }));
    const refused = await cli(['gateway', '--config', 'examples/seed.config.yaml', '--api-keys', keysFile]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('apiKeys.billing.tenant');
    expect(refused.stderr).toContain('unknown tenant "acme-crop"');
  });
});
