import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkInvocation } from '../src/cli/index.js';
import { loadApiKeysFile, loadConfig } from '../src/config/index.js';
import { hashKey } from '../src/gateway/index.js';

// No Docker engine runs in CI, so docker-compose.yml is checked by parsing it.

const repoRoot = new URL('..', import.meta.url);
const repoPath = (relative: string): string => fileURLToPath(new URL(relative, repoRoot));

type Service = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function loadServices(): Map<string, Service> {
  // `merge: true` resolves `<<: *anchor` merge keys the way Docker Compose does.
  const doc: unknown = parse(readFileSync(repoPath('docker-compose.yml'), 'utf8'), { merge: true });
  if (!isRecord(doc) || !isRecord(doc.services)) throw new Error('docker-compose.yml has no services map');
  const services = new Map<string, Service>();
  for (const [name, service] of Object.entries(doc.services)) {
    if (!isRecord(service)) throw new Error(`service ${name} is not a map`);
    services.set(name, service);
  }
  return services;
}

const services = loadServices();

/** The service's `command` as an argument list (list form, or a string split on whitespace). */
function commandArgs(service: Service): string[] {
  const { command } = service;
  if (command === undefined) return [];
  if (typeof command === 'string') return command.trim().split(/\s+/);
  if (Array.isArray(command)) return command.map((arg) => String(arg));
  throw new Error(`unexpected command: ${JSON.stringify(command)}`);
}

/** Value of `--flag value` or `--flag=value` in an argument list. */
function flagValue(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === flag) return args[i + 1];
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}

function isNats(service: Service): boolean {
  return typeof service.image === 'string' && /^nats(:|$)/.test(service.image);
}

function isBuiltFromRepo(service: Service): boolean {
  const { build } = service;
  const context = isRecord(build) ? build.context : build;
  return context === '.' || context === './';
}

const natsNames = [...services].filter(([, s]) => isNats(s)).map(([name]) => name);
const appServices = [...services].filter(([, s]) => s.build !== undefined);

function environment(service: Service): Record<string, string> {
  const env = service.environment;
  if (env === undefined) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const text = String(entry);
        const eq = text.indexOf('=');
        return eq < 0 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)];
      }),
    );
  }
  if (isRecord(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
  throw new Error(`unexpected environment: ${JSON.stringify(env)}`);
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

function mounts(service: Service): Mount[] {
  const { volumes } = service;
  if (volumes === undefined) return [];
  if (!Array.isArray(volumes)) throw new Error(`unexpected volumes: ${JSON.stringify(volumes)}`);
  return volumes.map((volume): Mount => {
    if (typeof volume === 'string') {
      const [source = '', target = '', mode = ''] = volume.split(':');
      return { source, target, readOnly: mode.split(',').includes('ro') };
    }
    if (isRecord(volume)) {
      return {
        source: typeof volume.source === 'string' ? volume.source : '',
        target: typeof volume.target === 'string' ? volume.target : '',
        readOnly: volume.read_only === true,
      };
    }
    throw new Error(`unexpected volume: ${JSON.stringify(volume)}`);
  });
}

function dependsOn(service: Service): string[] {
  const deps = service.depends_on;
  if (deps === undefined) return [];
  if (Array.isArray(deps)) return deps.map((dep) => String(dep));
  if (isRecord(deps)) return Object.keys(deps);
  throw new Error(`unexpected depends_on: ${JSON.stringify(deps)}`);
}

function portRange(text: string): number[] {
  const [first = '', last = first] = text.split('-');
  const from = Number(first);
  const to = Number(last);
  if (!Number.isInteger(from) || !Number.isInteger(to) || to < from) throw new Error(`bad port range: ${text}`);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Host ports a service publishes, as `port/protocol` keys. */
function publishedPorts(service: Service): string[] {
  const { ports } = service;
  if (ports === undefined) return [];
  if (!Array.isArray(ports)) throw new Error(`unexpected ports: ${JSON.stringify(ports)}`);
  return ports.flatMap((port): string[] => {
    if (isRecord(port)) {
      const { published } = port;
      if (typeof published !== 'string' && typeof published !== 'number') return [];
      const protocol = typeof port.protocol === 'string' ? port.protocol : 'tcp';
      return portRange(String(published)).map((p) => `${p}/${protocol}`);
    }
    // Short syntax: [[IP:]HOST:]CONTAINER[/PROTOCOL]; a bare container port publishes nothing fixed.
    const [mapping = '', protocol = 'tcp'] = String(port).split('/');
    const parts = mapping.split(':');
    if (parts.length < 2) return [];
    const host = parts[parts.length - 2]!;
    return portRange(host).map((p) => `${p}/${protocol}`);
  });
}

function urlHosts(list: string): URL[] {
  return list
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '')
    .map((url) => new URL(url));
}

describe('docker-compose.yml', () => {
  it('runs three NATS servers whose routes name the other members and share one cluster name', () => {
    expect(natsNames).toHaveLength(3);

    const clusterNames = new Set<string | undefined>();
    const serverNames = new Set<string | undefined>();
    for (const name of natsNames) {
      const args = commandArgs(services.get(name)!);
      clusterNames.add(flagValue(args, '--cluster_name'));
      serverNames.add(flagValue(args, '--name'));

      const cluster = flagValue(args, '--cluster');
      expect(cluster, `${name} --cluster`).toBeDefined();
      const clusterPort = new URL(cluster!).port;

      const routes = flagValue(args, '--routes');
      expect(routes, `${name} --routes`).toBeDefined();
      const routeUrls = urlHosts(routes!);
      const routeHosts = routeUrls.map((url) => url.hostname);
      for (const other of natsNames.filter((n) => n !== name)) {
        expect(routeHosts, `${name} routes`).toContain(other);
      }
      for (const url of routeUrls) {
        expect(natsNames, `${name} routes to a NATS service`).toContain(url.hostname);
        expect(url.port, `${name} routes to the cluster port`).toBe(clusterPort);
      }
    }
    expect(clusterNames.size).toBe(1);
    expect([...clusterNames][0]).toBeTruthy();
    expect(serverNames.size, 'each NATS server has its own --name').toBe(3);
  });

  it('builds two routers, a gateway and a simulator from the repo Dockerfile, which compiles and runs the CLI', () => {
    const bySubcommand = (subcommand: string): string[] =>
      appServices.filter(([, s]) => commandArgs(s)[0] === subcommand).map(([name]) => name);

    const routers = bySubcommand('start');
    expect(routers).toHaveLength(2);
    const nodeIds = routers.map((name) => flagValue(commandArgs(services.get(name)!), '--node-id'));
    expect(new Set(nodeIds).size, 'routers have distinct --node-id').toBe(2);
    expect(bySubcommand('gateway')).toHaveLength(1);
    expect(bySubcommand('simulate')).toHaveLength(1);

    for (const [name, service] of appServices) {
      expect(isBuiltFromRepo(service), `${name} is built from the repo root`).toBe(true);
    }

    const dockerfilePath = repoPath('Dockerfile');
    expect(existsSync(dockerfilePath)).toBe(true);
    const dockerfile = readFileSync(dockerfilePath, 'utf8');
    expect(dockerfile).toMatch(/^FROM\s+node:20-bookworm-slim\s+AS\s+\w+/im);
    expect(dockerfile).toMatch(/^RUN\s+npm run build\b/m);

    const entrypoints = [...dockerfile.matchAll(/^ENTRYPOINT\s+(\[.*\])\s*$/gm)];
    expect(entrypoints.length).toBeGreaterThan(0);
    const entrypoint: unknown = JSON.parse(entrypoints[entrypoints.length - 1]![1]!);
    expect(entrypoint).toEqual(['node', 'dist/src/app/main.js']);
    // The image's own example runs, as written: `start` needs --env.
    const example = dockerfile.match(/^#\s+(?:.*\\\n#\s+)*.*switchyard start .*$/m)?.[0];
    expect(example).toBeDefined();
    expect(example).toMatch(/--env \w+/);
    const exampleArgs = example!.slice(example!.lastIndexOf('switchyard start') + 'switchyard '.length).trim().split(/\s+/);
    expect(checkInvocation(exampleArgs), 'the Dockerfile example is a command the CLI accepts').toBeUndefined();
  });

  it('runs in every app service a command line the CLI accepts', () => {
    // The check refuses what the CLI refuses: the old gateway line, and a router without --env.
    expect(checkInvocation(['gateway', '--config', 'c.yaml', '--port', '8080'])).toMatch(/Unknown option '--port'/);
    expect(checkInvocation(['start', '--config', 'c.yaml'])).toMatch(/--env is required/);
    expect(appServices.length).toBe(4);
    for (const [name, service] of appServices) {
      expect(checkInvocation(commandArgs(service)), `${name}: ${commandArgs(service).join(' ')}`).toBeUndefined();
    }
  });

  it('points both routers at the simulator service by default, on the port it serves its admin API', () => {
    const simulator = appServices.find(([, s]) => commandArgs(s)[0] === 'simulate');
    expect(simulator).toBeDefined();
    const [simulatorName, simulatorService] = simulator!;
    const adminPort = flagValue(commandArgs(simulatorService), '--port');
    const routers = appServices.filter(([, s]) => commandArgs(s)[0] === 'start');
    expect(routers).toHaveLength(2);
    for (const [name, service] of routers) {
      const target = flagValue(commandArgs(service), '--simulator');
      expect(target, `${name} --simulator`).toBeDefined();
      expect(new URL(target!).hostname).toBe(simulatorName);
      expect(new URL(target!).port).toBe(adminPort);
    }
  });

  it('gives the gateway an API keys file that checks out against its config and holds the demo key the comments name', async () => {
    const gateway = appServices.find(([, s]) => commandArgs(s)[0] === 'gateway')?.[1];
    expect(gateway).toBeDefined();
    const args = commandArgs(gateway!);
    const inExamples = (file: string | undefined) => repoPath(`examples/${path.posix.relative('/config', file ?? '')}`);
    const { config } = await loadConfig({ flag: inExamples(flagValue(args, '--config')), cwd: repoPath('.'), env: {} });
    const keys = await loadApiKeysFile(inExamples(flagValue(args, '--api-keys')), config);
    const demo = readFileSync(repoPath('docker-compose.yml'), 'utf8').match(/Bearer (sk-sy-[\w-]+)/)?.[1];
    expect(demo).toBeDefined();
    expect(Object.values(keys).map((k) => k.sha256)).toContain(hashKey(demo!));
    expect(flagValue(args, '--listen')).toMatch(/^0\.0\.0\.0:\d+$/);
  });

  it('mounts ./examples into every app service and points --config at a file that exists there', () => {
    expect(appServices.length).toBeGreaterThan(0);
    for (const [name, service] of appServices) {
      const examples = mounts(service).find((m) => path.posix.normalize(m.source) === 'examples');
      expect(examples, `${name} mounts ./examples`).toBeDefined();
      expect(examples!.readOnly, `${name} mounts ./examples read-only`).toBe(true);

      const config = flagValue(commandArgs(service), '--config');
      expect(config, `${name} --config`).toBeDefined();
      const relative = path.posix.relative(examples!.target, config!);
      expect(relative.startsWith('..') || path.posix.isAbsolute(relative), `${name} --config is under the mount`).toBe(
        false,
      );
      const file = repoPath(`examples/${relative}`);
      expect(existsSync(file), `${name} --config ${config} -> examples/${relative} exists`).toBe(true);
    }
  });

  it('gives every app service a NATS_URL that lists all three NATS servers', () => {
    expect(appServices.length).toBeGreaterThan(0);
    for (const [name, service] of appServices) {
      const natsUrl = environment(service).NATS_URL;
      expect(natsUrl, `${name} NATS_URL`).toBeDefined();
      const hosts = urlHosts(natsUrl!).map((url) => url.hostname);
      expect([...hosts].sort(), `${name} NATS_URL hosts`).toEqual([...natsNames].sort());
    }
  });

  it('depends only on services that exist', () => {
    for (const [name, service] of services) {
      for (const dep of dependsOn(service)) {
        expect(services.has(dep), `${name} depends on ${dep}`).toBe(true);
      }
    }
  });

  it('publishes host ports that do not collide', () => {
    const owners = new Map<string, string>();
    for (const [name, service] of services) {
      for (const port of publishedPorts(service)) {
        expect(owners.get(port), `host port ${port} of ${name}`).toBeUndefined();
        owners.set(port, name);
      }
    }
    expect(owners.get('4222/tcp')).toBe('nats-1');
    expect(owners.get('8080/tcp')).toBe('gateway');
  });
});
