/** `switchyard status` and `switchyard drain`: every node and every deployment's state, per node and merged. */
import { connectNats, adminDrainSubject, adminStateSubject } from '../../transport/index.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { HEALTH_SEVERITY, UsageError, type HealthState } from '../../domain/index.js';
import { noPositionals, parseFlags } from '../args.js';
import { ExitCode, type CliIo } from '../io.js';
import { natsOptions } from '../nats-options.js';

export const statusHelp = `Usage: switchyard status [--nats URL,...] [--json] [--watch]

Asks every router node (sy.admin.state) for its state and its view of every deployment, and shows
them per node and merged (the worst state any node sees), then each deployment's capacity: its
limits (configured, and as learned from the vendor), admissions and refusals, priority shedding,
and per pool what the fleet uses, what the pool reserves and what it borrowed.

  --nats URL,...  NATS servers (default $NATS_URL, then nats://127.0.0.1:4222)
  --json          one JSON object: { nodes: [...], deployments: { id: { nodes: {...}, merged } } }
  --watch         refresh every 2 s until Ctrl-C
`;

export const drainHelp = `Usage: switchyard drain NODE [--nats URL,...]

Tells one router node to drain: it stops taking requests, finishes those in flight, and stops.
`;

type Amounts = { concurrency: number; rpm: number; tpm: number };

/** A node's capacity book of one deployment (src/capacity, `DeploymentCapacityStatus`). */
interface DeploymentCapacity {
  configured: Amounts;
  learned: Amounts;
  admitted: number;
  refused: Record<string, number>;
  shedByPriority: Record<string, number>;
  pools: Record<string, { reserved: Amounts; used: Amounts; borrowed: number }>;
}

interface NodeState {
  nodeId: string;
  state: string;
  environment: string;
  counts: { taken: number; inFlight: number; failed: number; handedBack?: number };
  /** The peers whose gossip this node trusts and hears. */
  peers?: string[];
  fleet: { vendorRegions: Record<string, string>; deployments: Record<string, string> };
  capacity?: Record<string, DeploymentCapacity>;
}


export async function gatherStatus(nc: NatsConnection): Promise<{ nodes: NodeState[]; deployments: Record<string, { nodes: Record<string, string>; merged: string }> }> {
  const nodes: NodeState[] = [];
  try {
    const replies = await nc.requestMany(adminStateSubject(), '', { strategy: 'stall', stall: 300, maxWait: 3000 });
    for await (const msg of replies) {
      try {
        nodes.push(msg.json<NodeState>());
      } catch {
        // A reply that is not a node state is not ours to show.
      }
    }
  } catch (error) {
    // No node listening is an answer too: an empty fleet.
    if (!/no responders/i.test(error instanceof Error ? error.message : String(error))) throw error;
  }
  nodes.sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  const deployments: Record<string, { nodes: Record<string, string>; merged: string }> = {};
  for (const node of nodes) {
    for (const [id, state] of Object.entries(node.fleet.deployments)) {
      const entry = (deployments[id] ??= { nodes: {}, merged: 'healthy' });
      entry.nodes[node.nodeId] = state;
      if (HEALTH_SEVERITY.indexOf(state as HealthState) > HEALTH_SEVERITY.indexOf(entry.merged as HealthState)) entry.merged = state;
    }
  }
  return { nodes, deployments };
}

function render(status: Awaited<ReturnType<typeof gatherStatus>>): string {
  if (status.nodes.length === 0) return 'No router node answered. Start one with `switchyard start` or `switchyard dev`.\n';
  const lines = ['NODE                 STATE     ENV        TAKEN  IN FLIGHT  FAILED'];
  for (const n of status.nodes) {
    lines.push(`${n.nodeId.padEnd(20)} ${n.state.padEnd(9)} ${n.environment.padEnd(10)} ${String(n.counts.taken).padStart(5)}  ${String(n.counts.inFlight).padStart(9)}  ${String(n.counts.failed).padStart(6)}`);
  }
  lines.push('', `${'DEPLOYMENT'.padEnd(40)} ${'MERGED'.padEnd(9)} ${status.nodes.map((n) => n.nodeId).join('  ')}`);
  for (const [id, d] of Object.entries(status.deployments).sort()) {
    lines.push(`${id.padEnd(40)} ${d.merged.padEnd(9)} ${status.nodes.map((n) => (d.nodes[n.nodeId] ?? '-').padEnd(n.nodeId.length)).join('  ')}`);
  }
  lines.push(...renderCapacity(status.nodes));
  return `${lines.join('\n')}\n`;
}

const amounts = (a: Amounts) => `${fmt(a.concurrency)}/${fmt(a.rpm)}/${fmt(a.tpm)}`;
const fmt = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : String(Math.round(n)));
const total = (records: Record<string, number>[]) => records.reduce((sum, r) => sum + Object.values(r).reduce((a, b) => a + b, 0), 0);

/**
 * Capacity per deployment and pool: limits (configured → learned) and each pool's usage as the
 * fleet sees it (the highest any node reports), with admissions, refusals and priority shedding
 * summed over the nodes. Only deployments some node has admitted or refused on are shown.
 */
function renderCapacity(nodes: readonly NodeState[]): string[] {
  const ids = [...new Set(nodes.flatMap((n) => Object.keys(n.capacity ?? {})))].sort();
  const lines: string[] = [];
  for (const id of ids) {
    const books = nodes.flatMap((n) => (n.capacity?.[id] ? [n.capacity[id]] : []));
    const admitted = books.reduce((sum, b) => sum + b.admitted, 0);
    const refused = total(books.map((b) => b.refused));
    if (admitted + refused === 0) continue;
    const first = books[0]!;
    const learned = books.reduce((low, b) => ({ concurrency: Math.min(low.concurrency, b.learned.concurrency), rpm: Math.min(low.rpm, b.learned.rpm), tpm: Math.min(low.tpm, b.learned.tpm) }), first.learned);
    const shed = Object.entries(books.reduce<Record<string, number>>((acc, b) => {
      for (const [p, n] of Object.entries(b.shedByPriority)) acc[p] = (acc[p] ?? 0) + n;
      return acc;
    }, {})).filter(([, n]) => n > 0);
    if (lines.length === 0) lines.push('', 'CAPACITY (concurrency/rpm/tpm)');
    lines.push(`${id.padEnd(40)} limit ${amounts(first.configured)} learned ${amounts(learned)}  admitted ${admitted}  refused ${refused}${shed.length ? `  shed ${shed.map(([p, n]) => `${p} ${n}`).join(', ')}` : ''}`);
    for (const [pool, usage] of Object.entries(first.pools)) {
      const used = books.reduce((high, b) => {
        const u = b.pools[pool]?.used ?? high;
        return { concurrency: Math.max(high.concurrency, u.concurrency), rpm: Math.max(high.rpm, u.rpm), tpm: Math.max(high.tpm, u.tpm) };
      }, usage.used);
      const borrowed = books.reduce((sum, b) => sum + (b.pools[pool]?.borrowed ?? 0), 0);
      if (usage.reserved.concurrency + used.concurrency + used.rpm + borrowed === 0) continue;
      lines.push(`  pool ${pool.padEnd(14)} used ${amounts(used).padEnd(16)} reserved ${amounts(usage.reserved).padEnd(16)} borrowed ${borrowed}`);
    }
  }
  return lines;
}

export async function status(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseFlags('status', args, { nats: { type: 'string' }, json: { type: 'boolean', default: false }, watch: { type: 'boolean', default: false } });
  noPositionals('status', positionals);
  const nc = await connectNats(natsOptions(values.nats, io.env, 'switchyard-status'));
  try {
    let stopped = false;
    void io.shutdown?.then(() => (stopped = true));
    do {
      const result = await gatherStatus(nc);
      io.stdout(values.json ? `${JSON.stringify(result)}\n` : render(result));
      if (values.watch) await Promise.race([new Promise((resolve) => setTimeout(resolve, 2000)), io.shutdown]);
    } while (values.watch && !stopped);
  } finally {
    await nc.close();
  }
  return ExitCode.Ok;
}

export async function drain(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseFlags('drain', args, { nats: { type: 'string' } });
  const [node, ...rest] = positionals;
  if (!node) throw new UsageError('switchyard drain: name the node to drain', 'Run `switchyard status` to see the node ids.');
  noPositionals('drain', rest);
  const nc = await connectNats(natsOptions(values.nats, io.env, 'switchyard-drain'));
  try {
    const answer = await nc.request(adminDrainSubject(node), JSON.stringify({ command: 'drain' }), { timeout: 3000 });
    const { error } = answer.json<{ error?: string }>();
    if (error) throw new UsageError(`switchyard drain: node ${node} refused: ${error}`, 'This node runs another version of Switchyard; drain it with the same version, or stop it with SIGTERM.');
    io.stdout(`Node ${node} is draining: it takes no new requests, finishes those in flight, then exits.\n`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`switchyard drain: node ${node} did not answer`, 'Check the id with `switchyard status`.');
  } finally {
    await nc.close();
  }
  return ExitCode.Ok;
}
