// Test-only helpers that run real nats-server processes (single servers and
// route-connected clusters) on free loopback ports, each in its own temp dir.
// Only test files import this module; nothing under src/ may depend on it.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface NatsServerHandle {
  /** nats://127.0.0.1:PORT */
  url: string;
  port: number;
  monitorPort: number;
  pid: number;
  /** SIGTERM, SIGKILL after 5 s, then remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, then remove the temp dir. Idempotent. */
  kill(): Promise<void>;
  /**
   * Stops the server (SIGTERM), waits `downMs`, and starts a new one on the same ports and
   * arguments, as an operator restarting it would; resolves once the new one is ready.
   */
  restart(downMs: number): Promise<void>;
}

export interface NatsServerOptions {
  jetstream?: boolean;
  /** Extra command-line arguments, appended after the helper's own. */
  args?: string[];
  /** Written to a config file passed with -c; host/ports still come from the command line, which wins. */
  configText?: string;
}

export interface NatsClusterHandle {
  servers: NatsServerHandle[];
  urls: string[];
  stop(): Promise<void>;
  killMember(index: number): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 50;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_CHARS = 4_000;

// A test that throws before stop(), or a worker that exits early, must not leave
// servers behind holding ports and temp dirs; 'exit' handlers can only run sync code.
const liveChildren = new Map<ChildProcess, string>();
process.once('exit', () => {
  for (const [child, dir] of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone; nothing to do.
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

// Ports are released before nats-server binds them, so the OS can hand the same
// one out twice in a row; remembering what we gave out avoids self-collisions.
const handedOutPorts = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const address = srv.address();
        const p = typeof address === 'object' && address !== null ? address.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port !== 0 && !handedOutPorts.has(port)) {
      handedOutPorts.add(port);
      return port;
    }
  }
}

function serverBinary(): string {
  return process.env.NATS_SERVER_BIN || 'nats-server';
}

function missingBinaryError(bin: string): Error {
  return new Error(
    `nats-server binary "${bin}" was not found. Install it (e.g. \`apt-get install nats-server\`, ` +
      'or download a release from https://github.com/nats-io/nats-server/releases) ' +
      'or set NATS_SERVER_BIN to the path of the binary.',
  );
}

async function fetchJson(url: string): Promise<unknown> {
  // Per-request timeout: a half-started server can accept the socket and never answer.
  const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

/** Polls until check() returns true, or throws describe()'s text on timeout. */
async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() >= deadline) throw new Error(describe());
    await sleep(POLL_INTERVAL_MS);
  }
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  // Another process can grab a free port between freePort() and the bind; retry with fresh ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return restartable(await startOnce(options, await freePort(), await freePort()), options);
    } catch (err) {
      const inUse = err instanceof Error && /address already in use/i.test(err.message);
      if (!inUse || attempt >= 3) throw err;
    }
  }
}

/** A handle that stays valid across restarts: stop and kill always reach the current process. */
function restartable(first: ServerProcess, options: NatsServerOptions): NatsServerHandle {
  let current = first;
  const handle: NatsServerHandle = {
    url: first.url,
    port: first.port,
    monitorPort: first.monitorPort,
    get pid() {
      return current.pid;
    },
    stop: () => current.stop(),
    kill: () => current.kill(),
    async restart(downMs) {
      await current.stop();
      await sleep(downMs);
      // The port was ours a moment ago; a few tries cover the kernel's brief hold on it.
      for (let attempt = 1; ; attempt++) {
        try {
          current = await startOnce(options, first.port, first.monitorPort);
          return;
        } catch (err) {
          if (attempt >= 5 || !(err instanceof Error && /address already in use/i.test(err.message))) throw err;
          await sleep(100);
        }
      }
    },
  };
  return handle;
}

type ServerProcess = Omit<NatsServerHandle, 'restart'>;

async function startOnce(options: NatsServerOptions, port: number, monitorPort: number): Promise<ServerProcess> {
  const bin = serverBinary();
  const dir = await mkdtemp(join(tmpdir(), 'nats-test-'));

  const args = ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)];
  if (options.configText !== undefined) {
    const configPath = join(dir, 'server.conf');
    await writeFile(configPath, options.configText);
    args.unshift('-c', configPath);
  }
  if (options.jetstream) args.push('-js', '-sd', join(dir, 'jetstream'));
  args.push(...(options.args ?? []));

  const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.set(child, dir);

  let output = '';
  const capture = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);

  let exitInfo: string | undefined;
  let spawnError: NodeJS.ErrnoException | undefined;
  const exited = new Promise<void>((resolve) => {
    // 'close' rather than 'exit': it comes after stdio drains, so the output tail is complete.
    child.once('close', (code, signal) => {
      exitInfo = `code=${code} signal=${signal}`;
      liveChildren.delete(child);
      resolve();
    });
    // A spawn failure (e.g. ENOENT) emits 'error' and no exit code.
    child.once('error', (err) => {
      spawnError = err;
      liveChildren.delete(child);
      resolve();
    });
  });

  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (exitInfo === undefined && spawnError === undefined) child.kill(signal);
    const escalate =
      signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(escalate);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await pollUntil(
      async () => {
        if (spawnError || exitInfo !== undefined) return true;
        await fetchJson(`http://127.0.0.1:${monitorPort}/healthz`);
        return true;
      },
      READY_TIMEOUT_MS,
      () => `nats-server on port ${port} not ready within ${READY_TIMEOUT_MS} ms`,
    );
    if (spawnError) throw spawnError;
    if (exitInfo !== undefined) throw new Error(`nats-server exited during startup (${exitInfo})`);
  } catch (err) {
    await shutdown('SIGKILL');
    if (spawnError?.code === 'ENOENT') throw missingBinaryError(bin);
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`${reason}\nargs: ${args.join(' ')}\n--- nats-server output (tail) ---\n${output}`, {
      cause: err,
    });
  }

  let stopping: Promise<void> | undefined;
  let killing: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorPort,
    pid: child.pid ?? -1,
    stop: () => (stopping ??= shutdown('SIGTERM')),
    kill: () => (killing ??= shutdown('SIGKILL')),
  };
}

export async function startNatsCluster(
  size = 3,
  options: { jetstream?: boolean } = {},
): Promise<NatsClusterHandle> {
  if (!Number.isInteger(size) || size < 1) throw new Error(`cluster size must be a positive integer, got ${size}`);
  const clusterName = `test-cluster-${process.pid}-${Date.now().toString(36)}`;
  const clusterPorts: number[] = [];
  for (let i = 0; i < size; i++) clusterPorts.push(await freePort());
  const routeUrl = (p: number): string => `nats://127.0.0.1:${p}`;

  // Started together: a JetStream member is only healthy once it sees its peers.
  const started = await Promise.allSettled(
    clusterPorts.map((cport, i) => {
      const others = clusterPorts.filter((_, j) => j !== i).map(routeUrl);
      const args = ['--server_name', `${clusterName}-n${i}`, '--cluster_name', clusterName, '--cluster', routeUrl(cport)];
      if (others.length > 0) args.push('--routes', others.join(','));
      return startNatsServer({ jetstream: options.jetstream, args });
    }),
  );
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  if (failure) {
    await stop();
    throw failure.reason;
  }

  const routeCounts = new Map<number, number>();
  try {
    await pollUntil(
      async () => {
        const counts = await Promise.all(
          servers.map(async (s) => {
            const body = (await fetchJson(`http://127.0.0.1:${s.monitorPort}/routez`)) as { num_routes?: number };
            routeCounts.set(s.port, body.num_routes ?? 0);
            return body.num_routes ?? 0;
          }),
        );
        return counts.every((n) => n === size - 1);
      },
      READY_TIMEOUT_MS,
      () =>
        `cluster routes not established within ${READY_TIMEOUT_MS} ms; expected ${size - 1} per member, ` +
        `saw ${JSON.stringify(Object.fromEntries(routeCounts))} (client port -> num_routes)`,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    servers,
    urls: servers.map((s) => s.url),
    stop,
    killMember: async (index: number): Promise<void> => {
      const member = servers[index];
      if (!member) throw new Error(`no cluster member at index ${index} (size ${servers.length})`);
      await member.kill();
    },
  };
}
