/** `switchyard dev`, as `npm start` runs it: everything up, one request through, a clean stop on Ctrl-C. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.js';
import { runCli } from '../../src/cli/index.js';

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli({ argv, env: {}, cwd: root, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

describe('switchyard dev', () => {
  it('starts NATS, the simulator and a router node, serves a request, and stops cleanly on SIGINT', async () => {
    const env = { ...process.env };
    delete env.NATS_URL;
    const child = spawn(process.execPath, ['bin/switchyard.js', 'dev', '--json'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`dev exited with ${code}: ${stderr}`)));
    });
    const started = JSON.parse(first) as { nats: string; simulator: { endpoints: Record<string, string>; admin: string }; nodes: string[]; gateway: { url: string; apiKey: string } };
    expect(started.nodes).toEqual(['dev-1']);
    expect(Object.keys(started.simulator.endpoints)).toHaveLength(6);

    // The gateway it names takes its development key from an unmodified SDK.
    const openai = new OpenAI({ baseURL: `${started.gateway.url}/v1`, apiKey: started.gateway.apiKey, maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'Hello from the SDK' }] }, { headers: { 'x-switchyard-use-case': 'conversation_serving' } });
    expect(completion.choices[0]?.message.content).toMatch(/\w+/);

    const client = await createClient({ servers: started.nats });
    try {
      const { response, servedBy } = await client.complete(
        { model: 'claude-sonnet-4', maxTokens: 64, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello, Switchyard' }] }] },
        { useCase: 'conversation_serving' },
      );
      expect(response.content[0]?.type).toBe('text');
      expect(servedBy.model).toBe('claude-sonnet-4');
    } finally {
      await client.close();
    }

    // A tenant capped at batch asks for critical: served, and counted against its pool.
    const sent = await cli(['send', '--nats', started.nats, '--tenant', 'translation-worker', '--priority', 'critical', '--deadline', '20000', 'a bulk job']);
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    expect(sent.stdout).toMatch(/served by claude-sonnet-4@/);
    expect(await cli(['send', '--nats', started.nats, '--priority', 'urgent', 'x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--priority expects one of critical, high, standard, batch/) as unknown });
    const status = await cli(['status', '--nats', started.nats]);
    expect(status.stdout).toMatch(/CAPACITY \(concurrency\/rpm\/tpm\)/);
    expect(status.stdout).toMatch(/pool fin +used/);
    expect(status.stdout).toMatch(/pool general +used 0\/1\//);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
