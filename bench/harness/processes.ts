/**
 * The processes a benchmark runs, each as in production, and the resident memory each holds while
 * load runs. Production runs the compiled build (the image's `dist/src/app/main.js`), so that is
 * what runs here, built once per benchmark run; `BENCH_RUNTIME=tsx` runs the sources through tsx
 * instead (`bin/switchyard.js`, about 30 MB more per process, for the loader's own thread).
 * Only benchmarks import this folder.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Child {
  process: ChildProcess;
  /** The first stdout line that matched `ready`. */
  line: string;
  /** The last few kB the process wrote to stderr. */
  stderr(): string;
  stop(): Promise<void>;
}

let built = false;

/** The entry point to run: the compiled build, made now if this run has not made it yet. */
function entry(): string {
  if (process.env.BENCH_RUNTIME === 'tsx') return 'bin/switchyard.js';
  if (!built) {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
    built = true;
  }
  return 'dist/src/app/main.js';
}

/** A `switchyard` child process, resolved with its first stdout line matching `ready`. */
export function switchyard(args: string[], options: { env?: Record<string, string>; ready: RegExp; nodeArgs?: string[] }): Promise<Child> {
  return started(`switchyard ${args[0]}`, [...(options.nodeArgs ?? []), entry(), ...args], options);
}

/** A helper process of the benches (bench/harness/*.ts, run with tsx), resolved as `switchyard` is. */
export function harness(file: string, options: { env?: Record<string, string>; ready: RegExp }): Promise<Child> {
  return started(file, ['--import', 'tsx', `bench/harness/${file}`], options);
}

async function started(name: string, argv: string[], options: { env?: Record<string, string>; ready: RegExp }): Promise<Child> {
  const proc = spawn(process.execPath, argv, {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout }).on('line', (l) => ready(l));
    const ready = (l: string) => options.ready.test(l) && resolve(l);
    proc.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${stderr}`)));
  });
  // Keep reading stdout so a chatty child never blocks on a full pipe.
  proc.stdout?.resume();
  return {
    process: proc,
    line,
    stderr: () => stderr,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      const forced = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(forced);
    },
  };
}

/** Resident memory in MB, from /proc (Linux); NaN elsewhere. */
export function residentMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user and system) a process has used, in ms, from /proc (Linux); NaN elsewhere. */
export function cpuMs(pid: number): number {
  try {
    // Fields 14 and 15 (utime, stime), in clock ticks; the name in parentheses may hold spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

export interface MemorySample {
  meanMb: number;
  maxMb: number;
}

/** Samples each process's resident memory every 200 ms until `stop()`. */
export function sampleMemory(pids: Record<string, number>): { stop(): Record<string, MemorySample> } {
  const samples = new Map<string, number[]>(Object.keys(pids).map((name) => [name, []]));
  const take = () => {
    for (const [name, pid] of Object.entries(pids)) {
      const mb = residentMb(pid);
      if (Number.isFinite(mb)) samples.get(name)!.push(mb);
    }
  };
  take();
  const timer = setInterval(take, 200);
  return {
    stop() {
      clearInterval(timer);
      take();
      return Object.fromEntries(
        [...samples].map(([name, values]) => [name, { meanMb: values.reduce((a, b) => a + b, 0) / Math.max(1, values.length), maxMb: Math.max(...values) }]),
      );
    },
  };
}
