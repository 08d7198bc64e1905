/**
 * A nats-server child process for `switchyard dev`: on a free loopback port, ready when it
 * accepts connections, stopped with its parent. Missing binary → a clear error saying how to get it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../domain/index.js';

export interface LocalNats {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startLocalNats(binary = 'nats-server'): Promise<LocalNats> {
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const failed = new Promise<Error>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve(
        error.code === 'ENOENT'
          ? new UsageError(
              'nats-server is not on PATH',
              'Install it (apt-get install nats-server, or brew install nats-server), set NATS_SERVER_BIN to its path, or set NATS_URL to a running NATS server.',
            )
          : error,
      ),
    );
    child.once('exit', (code) => resolve(new Error(`nats-server exited with ${code}: ${stderr.trim()}`)));
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const outcome = await Promise.race([failed, sleep(50).then(() => accepts(port))]);
    if (outcome instanceof Error) throw outcome;
    if (outcome) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not accept connections on port ${port} within 10 s: ${stderr.trim()}`);
    }
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
