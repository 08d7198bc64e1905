import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli({
    argv,
    env,
    cwd: root,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

describe('switchyard check', () => {
  it('exits 0 on the seed config', async () => {
    const { code, stdout } = await run(['check', '--config', 'examples/seed.config.ts']);
    expect(code).toBe(0);
    expect(stdout).toContain('5 rows: 5 pass, 0 fail.');
  });

  it('exits 1 on the planted single points of failure, one JSON object per row', async () => {
    const { code, stdout } = await run(['check', '--config', 'examples/spof.config.yaml', '--json']);
    expect(code).toBe(1);
    const rows = JSON.parse(stdout) as { checks: Record<string, unknown>; reasons: Record<string, unknown>; pass: boolean }[];
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      expect(Object.keys(row.checks).sort()).toEqual(['fallback', 'isolatedCapacity', 'quota', 'regions', 'vendors']);
      expect(Object.values(row.checks).every((v) => typeof v === 'boolean')).toBe(true);
      expect(Object.values(row.reasons).every((v) => typeof v === 'string' && v.length > 0)).toBe(true);
    }
    expect(rows.every((r) => !r.pass)).toBe(true);
  });

  it('exits 2 with the path-naming error on an invalid config', async () => {
    const { code, stdout, stderr } = await run(['check', '--config', 'test/fixtures/config/unknown-vendor-region.yaml']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('routes.CLAUDE_SONNET_4.us_prod.conversation_serving[1]: unknown vendor-region "bedrock/us-east-9"; known: anthropic, bedrock/us-east-1');
    expect(stderr).toContain('switchyard config schema');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('reads the config from SWITCHYARD_CONFIG and filters by --env', async () => {
    const { code, stdout } = await run(['check', '--env', 'test', '--json'], { SWITCHYARD_CONFIG: 'examples/seed.config.yaml' });
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { environment: string }[]).map((r) => r.environment)).toEqual(['test', 'test']);
  });

  it('exits 2 and says what to do for an unknown environment, flag, command or missing file', async () => {
    const env = await run(['check', '--config', 'examples/seed.config.ts', '--env', 'eu_prod']);
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('unknown environment "eu_prod"; the config routes: us_prod, test');

    const flag = await run(['check', '--confg', 'x']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--confg'");
    expect(flag.stderr).toContain('switchyard check --help');

    const command = await run(['chek']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "chek"; commands: dev, start, gateway, check, config, simulate, status, drain, send');

    const missing = await run(['check', '--config', 'nope.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('config file nope.yaml (from --config) does not exist');
    expect(missing.stderr).toContain('Pass --config PATH, set SWITCHYARD_CONFIG, or create switchyard.config.ts');
  });

  it('shows the stack trace only with --debug', async () => {
    const plain = await run(['check', '--config', 'nope.yaml']);
    const debug = await run(['check', '--config', 'nope.yaml', '--debug']);
    expect(plain.stderr).not.toContain('ConfigNotFoundError');
    expect(debug.stderr).toMatch(/ConfigNotFoundError[\s\S]*\n\s+at /);
  });
});

describe('switchyard config', () => {
  it('prints a JSON Schema', async () => {
    const { code, stdout } = await run(['config', 'schema']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ title: 'Switchyard config', type: 'object' });
  });

  it('prints the resolved config with each credential said to be available or not', async () => {
    const { code, stdout } = await run(['config', 'print', '--config', 'examples/seed.config.ts', '--json'], { ANTHROPIC_API_KEY: 'sk-ant-secret-value' });
    expect(code).toBe(0);
    expect(stdout).not.toContain('sk-ant-secret-value');
    const printed = JSON.parse(stdout) as { vendorRegions: Record<string, { credentials: Record<string, unknown>; baseUrl: string }> };
    expect(printed.vendorRegions.anthropic?.credentials.apiKey).toEqual({ env: 'ANTHROPIC_API_KEY', available: true });
    expect(printed.vendorRegions['bedrock/us-west-2']?.baseUrl).toBe('https://bedrock-runtime.us-west-2.amazonaws.com');
  });

  it('prints YAML by default and rejects an unknown subcommand', async () => {
    expect((await run(['config', 'print', '--config', 'examples/seed.config.yaml'])).stdout).toMatch(/^vendorRegions:\n/);
    const bad = await run(['config', 'show']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown subcommand "show"');
  });
});

describe('the switchyard binary', () => {
  it('runs the report as a process, and exits 1 on the SPOF example', async () => {
    const exec = promisify(execFile);
    const ok = await exec(process.execPath, ['bin/switchyard.js', 'check', '--config', 'examples/seed.config.ts'], { cwd: root });
    expect(ok.stdout).toContain('PASS');
    const failed = exec(process.execPath, ['bin/switchyard.js', 'check', '--config', 'examples/spof.config.yaml'], { cwd: root });
    await expect(failed).rejects.toMatchObject({ code: 1 });
  });
});
