/**
 * Gossip between router nodes on a real nats-server: several in-process Fleets, each with its own
 * connection and startGossip, exchanging digests and heartbeats. Short intervals; every wait is on
 * a condition, and the times it took are printed for the record.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Fleet } from '../../actors/fleet.js';
import { startGossip, type Gossip } from '../../actors/gossip.js';
import type { HealthPolicy } from '../../machines/health.machine.js';
import type { Reservation } from '../../src/capacity/index.js';
import type { Config } from '../../src/config/index.js';
import { connectNats } from '../../src/transport/connect.js';
import { DigestSchema, GOSSIP_VERSION, type Digest, type Heartbeat } from '../../src/transport/gossip-schema.js';
import { generateSigner, TrustedRouters, type GossipSigner } from '../../src/transport/gossip-signing.js';
import { nodeSubject, stateSubject, stateWildcard } from '../../src/transport/subjects.js';
import { startNatsCluster, startNatsServer, type NatsClusterHandle, type NatsServerHandle } from '../helpers/nats-server.js';
import { seedConfig } from '../helpers/simulator.js';

const X = 'claude-sonnet-4@anthropic';

/** A request in flight on X, held in the fleet's capacity ledger as a routed request would be. */
const holding = new Map<Fleet, Reservation[]>();
function begin(fleet: Fleet): void {
  const result = fleet.capacity.admit({ deployment: X, pool: 'fin', priority: 'critical', tenant: { name: 'test', maxShare: 100 }, tokens: 1, owner: 'test' });
  if (!result.ok) throw new Error(`not admitted: ${result.refusal}`);
  holding.set(fleet, [...(holding.get(fleet) ?? []), result.reservation]);
}
function end(fleet: Fleet): void {
  const reservation = holding.get(fleet)?.pop();
  if (reservation) fleet.capacity.release(reservation);
}
/** Every node id the tests use has a key, and all of them are trusted, as a config would list them. */
const KEYS: Record<string, GossipSigner> = Object.fromEntries(['a', 'b', 'c', 'z'].map((id) => [id, generateSigner().signer]));
const TRUSTED = new TrustedRouters(Object.fromEntries(Object.entries(KEYS).map(([id, signer]) => [id, [signer.publicKey]])));

/** Publishes a gossip message signed as `as` (a trusted key), the way a peer does. */
function signedPublish(c: NatsConnection, subject: string, body: string | Uint8Array, as: GossipSigner = KEYS.z!): void {
  const data = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  c.publish(subject, data, { headers: as.headers(subject, data) });
}
/** Only the fleet-wide fault rate may open: a run of consecutive faults never does here. */
const POLICY: Partial<HealthPolicy> = { consecutiveFaults: 1_000, minVolume: 20, windowMs: 30_000 };

interface Node {
  id: string;
  fleet: Fleet;
  gossip: Gossip;
  connection: NatsConnection;
}

let server: NatsServerHandle;
let cluster: NatsClusterHandle | undefined;
let config: Config;
const nodes: Node[] = [];
const connections: NatsConnection[] = [];

beforeEach(async () => {
  server = await startNatsServer();
  config = await seedConfig();
});

afterEach(async () => {
  await Promise.allSettled(nodes.map((n) => n.gossip.stop()));
  for (const n of nodes.splice(0)) n.fleet.stop();
  await Promise.allSettled(connections.splice(0).map((c) => c.close()));
  await server.stop();
  await cluster?.stop();
  cluster = undefined;
});

async function connection(name: string, url = server.url): Promise<NatsConnection> {
  const c = await connectNats({ servers: [url], name });
  connections.push(c);
  return c;
}

async function startNode(id: string, options: { intervalMs?: number; staleAfterMs?: number; url?: string; policy?: Partial<HealthPolicy> } = {}): Promise<Node> {
  const { url, policy, ...timing } = options;
  const fleet = new Fleet(config, { policy: policy ?? POLICY });
  const c = await connection(id, url);
  const gossip = startGossip({ connection: c, fleet, nodeId: id, environment: 'test', version: '0.1.0', configRevision: () => 7, intervalMs: 150, signer: KEYS[id]!, trusted: TRUSTED, ...timing });
  const node = { id, fleet, gossip, connection: c };
  nodes.push(node);
  return node;
}

/** Waits until `condition` holds; returns how long that took, in ms. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<number> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
  return performance.now() - start;
}

const fault = (fleet: Fleet) => fleet.report(X, { type: 'outcome.failure', at: fleet.now(), failureClass: 'fault', code: 'vendor_overloaded' });
const success = (fleet: Fleet, ttftMs: number) => fleet.report(X, { type: 'outcome.success', at: fleet.now(), ttftMs });

/** Every digest on one vendor-region's subject, as raw JSON, from a separate observer connection. */
async function observe(vendorRegion: string): Promise<unknown[]> {
  const seen: unknown[] = [];
  const c = await connection('observer');
  c.subscribe(stateSubject(vendorRegion), {
    callback: (_err, msg) => {
      seen.push(msg.json());
    },
  });
  await c.flush();
  return seen;
}

const digestOf = (raw: unknown) => raw as Digest;

describe('gossip', () => {
  it('publishes a digest on a state change at once, one per burst, each valid and holding nothing beyond the schema', async () => {
    const seen = await observe('anthropic');
    // A long interval, so whatever arrives early was sent for the state change.
    const a = await startNode('a', { intervalMs: 10_000 });
    await waitFor(() => seen.length === 1, 'the digest sent at start');

    // A 429 changes no state, so it goes out with the next digest: counted as a throttle, with its retry-after.
    a.fleet.report(X, { type: 'outcome.failure', at: a.fleet.now(), failureClass: 'capacity', code: 'vendor_rate_limited', retryAfterMs: 60_000 });
    const before = a.gossip.stats().published.digests;
    const start = performance.now();
    // Two actors of one vendor-region change state in the same turn: one digest tells both.
    a.fleet.sendToVendorRegion('anthropic', { type: 'admin.open', at: a.fleet.now() });
    a.fleet.report(X, { type: 'admin.open', at: a.fleet.now() });
    await waitFor(() => seen.length === 2, 'the digest of the state change');
    const latency = performance.now() - start;
    expect(a.gossip.stats().published.digests - before).toBe(1);
    const digest = digestOf(seen[1]);
    expect(digest).toMatchObject({ v: GOSSIP_VERSION, node: 'a', vendorRegion: 'anthropic', state: 'open', deployments: [{ id: X, state: 'open' }] });
    expect(digest.seq).toBeGreaterThan(digestOf(seen[0]).seq);
    expect(digest.deployments[0]?.window).toEqual({ requests: 1, faults: 0, throttles: 1 });
    expect(digest.deployments[0]?.quota.throttledUntil).toBeGreaterThan(Date.now() + 50_000);
    // What goes out is exactly what the schema allows: no stray fields, so no secrets or prompts.
    for (const raw of seen) expect(DigestSchema.parse(raw)).toEqual(raw);
    console.log(`digest after a state change: ${latency.toFixed(1)} ms`);
  });

  it('publishes every vendor-region digest and the heartbeat on the interval', async () => {
    const seen = await observe('bedrock/us-east-1');
    const heartbeats: Heartbeat[] = [];
    const c = await connection('heartbeat-observer');
    c.subscribe(nodeSubject('a'), {
    callback: (_err, msg) => {
      heartbeats.push(msg.json<Heartbeat>());
    },
  });
    await c.flush();
    const intervalMs = 150;
    const a = await startNode('a', { intervalMs });
    const times: number[] = [];
    const start = performance.now();
    await waitFor(
      () => {
        if (seen.length > times.length) times.push(performance.now());
        return seen.length >= 5;
      },
      'five interval digests',
    );
    const elapsed = performance.now() - start;
    // Five digests with no state change take four intervals; far fewer would mean a publish storm.
    expect(elapsed).toBeGreaterThanOrEqual(3.5 * intervalMs);
    expect(new Set(seen.map((d) => digestOf(d).seq)).size).toBe(seen.length);
    await waitFor(() => heartbeats.length >= 5, 'five heartbeats');
    expect(heartbeats[0]).toMatchObject({ v: GOSSIP_VERSION, node: 'a', environment: 'test', version: '0.1.0', configRevision: 7, load: { inFlight: 0 } });
    expect(a.gossip.stats().published.digests).toBeGreaterThanOrEqual(5 * Object.keys(config.vendorRegions).length);
    console.log(`5 interval digests (interval ${intervalMs} ms) in ${elapsed.toFixed(0)} ms`);
  });

  it('a new node learns the current state within one interval', async () => {
    const intervalMs = 200;
    const a = await startNode('a', { intervalMs });
    const b = await startNode('b', { intervalMs });
    begin(a.fleet);
    begin(a.fleet);
    for (let i = 0; i < 3; i++) fault(a.fleet);
    begin(b.fleet);
    await waitFor(() => b.fleet.view(X)?.inFlight === 3 && a.fleet.view(X)?.inFlight === 3, 'a and b to see each other');

    const start = performance.now();
    const c = await startNode('c', { intervalMs });
    const learned = await waitFor(() => {
      const peers = c.gossip.peers();
      return (
        c.fleet.view(X)?.inFlight === 3 &&
        c.fleet.counts(X)?.peers.faults === 3 &&
        peers.length === 2 &&
        peers.every((p) => p.environment === 'test' && p.vendorRegions.length === Object.keys(config.vendorRegions).length)
      );
    }, 'c to learn the fleet');
    const total = performance.now() - start;
    console.log(`new node learned the fleet in ${learned.toFixed(1)} ms (${total.toFixed(1)} ms with connecting; interval ${intervalMs} ms)`);
    expect(learned).toBeLessThanOrEqual(3 * intervalMs);
    expect(c.gossip.peers().find((p) => p.id === 'a')).toMatchObject({ version: '0.1.0', configRevision: 7, inFlight: 2 });
  });

  it("faults that open the breaker only fleet-wide open it on every node", async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    for (let i = 0; i < 12; i++) fault(b.fleet);
    // Twelve faults are under the minimum volume of 20: alone, b only degrades.
    expect(b.fleet.state(X)).toBe('degraded');
    const heard = await waitFor(() => a.fleet.counts(X)?.peers.faults === 12, "a to hear b's faults");
    expect(a.fleet.state(X)).toBe('degraded');
    expect(b.fleet.state(X)).toBe('degraded');

    const start = performance.now();
    for (let i = 0; i < 12; i++) fault(a.fleet);
    // On a: 8 own faults + 12 of b's reach the volume with a fault rate of 1.
    expect(a.fleet.state(X)).toBe('open');
    expect(a.fleet.counts(X)?.local.faults).toBe(8);
    const opened = await waitFor(() => b.fleet.state(X) === 'open', "b's breaker to open");
    expect(b.fleet.view(X)?.state).toBe('open');
    expect(b.fleet.counts(X)).toMatchObject({ local: { faults: 12 }, peers: { requests: 8, faults: 8 } });
    console.log(`b's faults reached a in ${heard.toFixed(1)} ms; first fault on a to open on b: ${(performance.now() - start).toFixed(1)} ms (waited ${opened.toFixed(1)} ms)`);
  });

  it("a peer's strong verdict opens a deployment on every node at a low request rate, and its probes' success closes it everywhere", async () => {
    const intervalMs = 200;
    // Five consecutive faults open a breaker; under 20 requests in the window no fault rate would.
    const prober = { consecutiveFaults: 5, minVolume: 20, windowMs: 30_000, baseOpenMs: 300, jitter: 0, probes: 2 };
    const waiting = { ...prober, baseOpenMs: 60_000 };
    const a = await startNode('a', { intervalMs, policy: prober });
    const b = await startNode('b', { intervalMs, policy: waiting });
    const c = await startNode('c', { intervalMs, policy: waiting });
    await waitFor(() => [a, b, c].every((n) => n.gossip.peers().length === 2), 'the three to meet');

    const firstFault = performance.now();
    for (let i = 0; i < 5; i++) fault(a.fleet);
    expect(a.fleet.state(X)).toBe('open');
    await waitFor(() => b.fleet.state(X) === 'open' && c.fleet.state(X) === 'open', 'b and c to open on a\'s verdict');
    const opened = performance.now() - firstFault;
    // b and c saw no fault and too few requests fleet-wide to judge a rate: a's verdict opened them.
    expect(b.fleet.counts(X)?.local.faults).toBe(0);
    expect((b.fleet.counts(X)?.peers.requests ?? 0) + (b.fleet.counts(X)?.local.requests ?? 0)).toBeLessThan(20);

    await waitFor(() => a.fleet.state(X) === 'halfOpen', 'a to half-open');
    expect(b.fleet.state(X)).toBe('open');
    const probed = performance.now();
    success(a.fleet, 100);
    success(a.fleet, 100);
    expect(a.fleet.state(X)).toBe('degraded');
    await waitFor(() => b.fleet.state(X) === 'degraded' && c.fleet.state(X) === 'degraded', "b and c to close on a's recovery");
    const closed = performance.now() - probed;
    expect(b.fleet.view(X)?.ramp).toBeLessThan(1);
    console.log(`peer verdicts (interval ${intervalMs} ms): first fault to open on all three ${opened.toFixed(0)} ms; prober's success to closed on all three ${closed.toFixed(0)} ms`);
  });

  it('one elected node probes a half-open deployment; when it falls silent another takes over, and its success closes the rest', async () => {
    const intervalMs = 100;
    const policy = { consecutiveFaults: 5, minVolume: 20, windowMs: 30_000, baseOpenMs: 300, maxOpenMs: 300, jitter: 0, probes: 2 };
    const nodes = await Promise.all(['a', 'b', 'c'].map((id) => startNode(id, { intervalMs, staleAfterMs: 400, policy })));
    await waitFor(() => nodes.every((n) => n.gossip.peers().length === 2), 'the three to meet');
    for (let i = 0; i < 5; i++) fault(nodes[0]!.fleet);
    await waitFor(() => nodes.every((n) => n.fleet.state(X) === 'halfOpen'), 'all three to half-open');
    const probers = (among: Node[]) => among.filter((n) => n.fleet.view(X)?.probeAvailable);
    // Once every node has the others' digests for the vendor-region, all agree on one prober.
    await waitFor(() => probers(nodes).length === 1, 'one prober');
    const first = probers(nodes)[0]!;

    // The prober goes silent: once the others drop it, exactly one of them probes.
    await first.gossip.stop();
    const rest = nodes.filter((n) => n !== first);
    await waitFor(() => rest.every((n) => !n.gossip.peers().some((p) => p.id === first.id)), `the others to drop ${first.id}`);
    await waitFor(() => probers(rest).length === 1, 'one of the others to take over');
    const taker = probers(rest)[0]!;
    success(taker.fleet, 100);
    success(taker.fleet, 100);
    await waitFor(() => rest.every((n) => n.fleet.state(X) === 'degraded'), "the other to close on the taker's success");
    console.log(`elected prober ${first.id}; after it fell silent ${taker.id} probed and closed the fleet`);
  });

  it('works across a three-server cluster: a node on the third server learns within one interval, and faults open everywhere', async () => {
    cluster = await startNatsCluster(3);
    const intervalMs = 200;
    const urls = cluster.urls;
    const a = await startNode('a', { intervalMs, url: urls[0] });
    const b = await startNode('b', { intervalMs, url: urls[1] });
    begin(a.fleet);
    for (let i = 0; i < 10; i++) fault(a.fleet);
    await waitFor(() => b.fleet.counts(X)?.peers.faults === 10, "b to hear a's faults");

    const c = await startNode('c', { intervalMs, url: urls[2] });
    const learned = await waitFor(() => c.fleet.view(X)?.inFlight === 1 && c.fleet.counts(X)?.peers.faults === 10 && c.gossip.peers().length === 2, 'c to learn the fleet');
    expect(learned).toBeLessThanOrEqual(3 * intervalMs);

    // 10 on a + 10 on c reach the volume: c opens on the spot, a and b from c's digest.
    const start = performance.now();
    for (let i = 0; i < 10; i++) fault(c.fleet);
    expect(c.fleet.state(X)).toBe('open');
    await waitFor(() => a.fleet.state(X) === 'open', 'a to open');
    const opened = await waitFor(() => b.fleet.state(X) === 'open', 'b to open');
    console.log(`cluster: new node learned the fleet in ${learned.toFixed(1)} ms (interval ${intervalMs} ms); open on c to open on a and b: ${(performance.now() - start).toFixed(1)} ms (last wait ${opened.toFixed(1)} ms)`);
    // b saw no fault itself: the fleet's evidence opened its breaker.
    expect(b.fleet.counts(X)).toMatchObject({ local: { requests: 0 }, peers: { requests: 20, faults: 20 } });
  });

  it('merges in-flight (headroom fleet-wide) and latency weighted by samples', async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    for (let i = 0; i < 3; i++) begin(a.fleet);
    for (let i = 0; i < 3; i++) success(a.fleet, 200);
    begin(b.fleet);
    success(b.fleet, 400);
    // Both estimates are under the prior, so they do not decay with time: the average is exact.
    const expected = (3 * 200 + 1 * 400) / 4;
    const concurrency = config.vendorRegions.anthropic?.deployments['claude-sonnet-4']?.quota.concurrency ?? 0;
    await waitFor(() => [a, b].every((n) => n.fleet.view(X)?.inFlight === 4), 'in-flight to merge');
    await waitFor(() => [a, b].every((n) => Math.abs((n.fleet.view(X)?.ttftMs ?? 0) - expected) < 1e-6), 'latency to merge');
    for (const n of [a, b]) expect(n.fleet.view(X)).toMatchObject({ inFlight: 4, headroom: concurrency - 4 });
    expect(a.gossip.peers().find((p) => p.id === 'b')?.inFlight).toBe(1);

    // Requests ending on a show on b within an interval, with no state change to push them.
    for (let i = 0; i < 3; i++) end(a.fleet);
    await waitFor(() => b.fleet.view(X)?.inFlight === 1, "a's requests to end on b");
    expect(b.fleet.view(X)?.headroom).toBe(concurrency - 1);
  });

  it('drops a stopped peer after staleAfterMs, and its counts leave the merge', async () => {
    const intervalMs = 100;
    const staleAfterMs = 300;
    const a = await startNode('a', { intervalMs, staleAfterMs });
    const b = await startNode('b', { intervalMs, staleAfterMs });
    begin(a.fleet);
    begin(a.fleet);
    for (let i = 0; i < 4; i++) fault(a.fleet);
    await waitFor(() => b.fleet.view(X)?.inFlight === 2 && b.fleet.counts(X)?.peers.faults === 4, "b to hear a's state");

    await a.gossip.stop();
    // Stopped gossip forgets the peers: a keeps only its own numbers.
    expect(a.fleet.counts(X)?.peers).toEqual({ requests: 0, faults: 0 });
    const dropped = await waitFor(() => !b.gossip.peers().some((p) => p.id === 'a'), 'b to drop a', 5_000);
    expect(dropped).toBeGreaterThanOrEqual(staleAfterMs - intervalMs);
    expect(dropped).toBeLessThanOrEqual(staleAfterMs + 3 * intervalMs);
    await waitFor(() => b.fleet.view(X)?.inFlight === 0 && b.fleet.counts(X)?.peers.faults === 0, "a's counts to leave b's merge");
    console.log(`stopped peer dropped after ${dropped.toFixed(0)} ms (staleAfterMs ${staleAfterMs})`);
  });

  it('ignores malformed digests and heartbeats, counting them, and keeps going', async () => {
    const a = await startNode('a', { intervalMs: 10_000 });
    const raw = await connection('intruder');
    const valid = (over: Partial<Digest> = {}, deployment: Record<string, unknown> = {}): Record<string, unknown> => ({
      v: GOSSIP_VERSION,
      node: 'z',
      seq: 1,
      at: Date.now(),
      vendorRegion: 'anthropic',
      state: 'healthy',
      window: { requests: 0, faults: 0, throttles: 0 },
      deployments: [{ id: X, state: 'healthy', ttftSamples: 0, inFlight: 1, window: { requests: 2, faults: 2, throttles: 0 }, quota: {}, ...deployment }],
      ...over,
    });
    const junk: [string, string | Uint8Array][] = [
      [stateSubject('anthropic'), 'not json'],
      [stateSubject('anthropic'), new Uint8Array([0xff, 0xfe, 0x7b])],
      [stateSubject('anthropic'), 'null'],
      [stateSubject('anthropic'), JSON.stringify({ ...valid(), v: 2 })],
      [stateSubject('anthropic'), JSON.stringify(valid({}, { inFlight: -5 }))],
      [stateSubject('anthropic'), JSON.stringify(valid({}, { window: { requests: 1, faults: 1_000, throttles: 0 } }))],
      [stateSubject('anthropic'), JSON.stringify(valid({}, { state: 'exploded' }))],
      [stateSubject('anthropic'), JSON.stringify(valid({}, { id: 'claude-sonnet-4@openai' }))],
      [stateSubject('anthropic'), JSON.stringify(valid({ node: 'bad.node' }))],
      // A valid digest on another vendor-region's subject.
      [stateSubject('openai'), JSON.stringify(valid())],
      [`${stateWildcard().slice(0, -1)}nonsense`, JSON.stringify(valid())],
      [stateSubject('anthropic'), JSON.stringify({ ...valid(), deployments: [valid().deployments, valid().deployments].flat(2) })],
      [nodeSubject('z'), JSON.stringify({ v: GOSSIP_VERSION, node: 'z' })],
      [nodeSubject('y'), JSON.stringify({ v: GOSSIP_VERSION, node: 'z', seq: 1, at: 1, startedAt: 1, environment: 'test', version: '1', configRevision: 1, load: { inFlight: 0 } })],
    ];
    // Signed by a trusted key, so each reaches the schema: a trusted peer on another version, or broken.
    for (const [subject, body] of junk) signedPublish(raw, subject, body);
    // Published after the junk on the same connection, so it arrives after all of it.
    signedPublish(raw, stateSubject('anthropic'), JSON.stringify(valid({ seq: 2 }, { inFlight: 5 })));
    await waitFor(() => a.fleet.view(X)?.inFlight === 5, 'the valid digest after the junk');
    expect(a.gossip.stats().dropped.malformed).toBe(junk.length);
    expect(a.gossip.stats().received.digests).toBe(1);
    expect(a.fleet.counts(X)?.peers).toEqual({ requests: 2, faults: 2 });
    expect(a.gossip.peers().map((p) => p.id)).toEqual(['z']);
  });

  it('drops a digest older than the one it holds, and forgets a restarted peer’s old digests', async () => {
    const a = await startNode('a', { intervalMs: 10_000 });
    const raw = await connection('peer-z');
    const heartbeat = (startedAt: number, seq: number): Heartbeat => ({
      v: GOSSIP_VERSION, node: 'z', seq, at: Date.now(), startedAt, environment: 'test', version: '1', configRevision: 1, load: { inFlight: 0 },
    });
    const digest = (seq: number, inFlight: number): Digest => ({
      v: GOSSIP_VERSION, node: 'z', seq, at: Date.now(), vendorRegion: 'anthropic', state: 'healthy', window: { requests: 0, faults: 0, throttles: 0 },
      deployments: [{ id: X, state: 'healthy', ttftSamples: 0, inFlight, window: { requests: 0, faults: 0, throttles: 0 }, quota: {} }],
    });
    const send = (subject: string, body: Digest | Heartbeat) => signedPublish(raw, subject, JSON.stringify(body));
    send(nodeSubject('z'), heartbeat(1_000, 1));
    send(stateSubject('anthropic'), digest(10, 4));
    send(stateSubject('anthropic'), digest(9, 9));
    send(stateSubject('anthropic'), digest(11, 4));
    await waitFor(() => a.gossip.stats().received.digests === 3, 'three digests');
    await waitFor(() => a.fleet.view(X)?.inFlight === 4, 'the newest digest');
    expect(a.gossip.stats().dropped.stale).toBe(1);
    // The same node id, restarted: sequence numbers start again, and its old in-flight died with it.
    send(nodeSubject('z'), heartbeat(2_000, 1));
    await waitFor(() => a.fleet.view(X)?.inFlight === 0, "the old process's digests to go");
    send(stateSubject('anthropic'), digest(2, 1));
    await waitFor(() => a.fleet.view(X)?.inFlight === 1, "the restarted node's digest");
  });

  it('a forged digest changes no deployment on any node: unsigned, unknown key, bad signature, another node id, implausible, replayed', async () => {
    const a = await startNode('a', { intervalMs: 10_000 });
    const b = await startNode('b', { intervalMs: 10_000 });
    const intruder = await connection('intruder');
    const subject = stateSubject('anthropic');
    // What was seen on main: this one digest opened the deployment on every node for 27 s.
    const forged = (over: Partial<Digest> = {}, window = { requests: 1000, faults: 1000, throttles: 0 }): string =>
      JSON.stringify({
        v: GOSSIP_VERSION, node: 'z', seq: 1, at: Date.now(), vendorRegion: 'anthropic', state: 'open', window,
        deployments: [{ id: X, state: 'open', ttftSamples: 0, inFlight: 0, window, quota: {} }],
        ...over,
      });
    const stranger = generateSigner().signer;
    intruder.publish(subject, forged());
    signedPublish(intruder, subject, forged(), stranger);
    const tampered = new TextEncoder().encode(forged());
    intruder.publish(subject, tampered, { headers: KEYS.z!.headers(subject, new TextEncoder().encode(forged({ seq: 2 }))) });
    // z's key is trusted, but only to speak as z.
    signedPublish(intruder, subject, forged({ node: 'b' }));
    signedPublish(intruder, subject, forged({}, { requests: 1_000_000, faults: 1_000_000, throttles: 0 }));
    signedPublish(intruder, subject, forged({ at: Date.now() - 120_000 }));
    // Then one honest digest from z, after all the others on the same connection.
    signedPublish(intruder, subject, forged({ seq: 3, state: 'healthy' }, { requests: 1, faults: 0, throttles: 0 }));
    for (const node of [a, b]) {
      await waitFor(() => node.fleet.counts(X)?.peers.requests === 1, `${node.id} to take z's honest digest`);
      expect(node.fleet.state(X)).toBe('healthy');
      expect(node.fleet.counts(X)?.peers).toEqual({ requests: 1, faults: 0 });
      expect(node.gossip.stats().dropped).toEqual({ malformed: 0, stale: 1, unsigned: 1, untrusted: 1, badSignature: 1, impersonation: 1, implausible: 1 });
    }
  });

  it("a peer's capacity report counts against the quota; one that disagrees with itself is dropped whole", async () => {
    const a = await startNode('a', { intervalMs: 10_000 });
    const raw = await connection('peer-z');
    const subject = stateSubject('anthropic');
    const digest = (seq: number, inFlight: number, pooled: number): string =>
      JSON.stringify({
        v: GOSSIP_VERSION, node: 'z', seq, at: Date.now(), vendorRegion: 'anthropic', state: 'healthy', window: { requests: 0, faults: 0, throttles: 0 },
        deployments: [{
          id: X, state: 'healthy', ttftSamples: 0, inFlight, window: { requests: 0, faults: 0, throttles: 0 }, quota: {},
          capacity: { demand: 3, pools: [{ pool: 'fin', inFlight: pooled, requests: pooled, tokens: 100 * pooled, tenants: [{ tenant: 'acme-corp', inFlight: pooled, requests: pooled, tokens: 100 * pooled }] }] },
        }],
      });
    // Claims 150 in flight but its pools hold 10: not believed.
    signedPublish(raw, subject, digest(1, 150, 10));
    signedPublish(raw, subject, digest(2, 150, 150));
    await waitFor(() => a.fleet.capacity.fleetInFlight(X) === 150, "a to count z's 150 in flight");
    expect(a.gossip.stats().dropped.implausible).toBe(1);
    const concurrency = config.vendorRegions.anthropic?.deployments['claude-sonnet-4']?.quota.concurrency ?? 0;
    expect(a.fleet.view(X)?.headroom).toBe(concurrency - 150);
    expect(a.fleet.capacity.status()[X]?.pools.fin?.used.concurrency).toBe(150);
  });

  it('20,000 invented node ids leave the peer table as it was and the gossip traffic unchanged', async () => {
    const intervalMs = 200;
    // The flood keeps a busy for seconds on a loaded machine; b must not go stale meanwhile, or its return would be counted as traffic.
    const staleAfterMs = 30_000;
    const a = await startNode('a', { intervalMs, staleAfterMs });
    await startNode('b', { intervalMs, staleAfterMs });
    await waitFor(() => a.gossip.peers().length === 1, 'a to know b');
    const intruder = await connection('intruder');
    const stranger = generateSigner().signer;
    const heartbeat = (node: string) => JSON.stringify({ v: GOSSIP_VERSION, node, seq: 1, at: Date.now(), startedAt: Date.now(), environment: 'test', version: '1', configRevision: 1, load: { inFlight: 0 } });
    const before = a.gossip.stats();
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) {
      const node = `invented-${i}`;
      // Unsigned, signed by a stranger, and signed by a trusted key claiming the invented id.
      if (i % 3 === 0) intruder.publish(nodeSubject(node), heartbeat(node));
      else signedPublish(intruder, nodeSubject(node), heartbeat(node), i % 3 === 1 ? stranger : KEYS.z!);
    }
    signedPublish(intruder, nodeSubject('z'), heartbeat('z'));
    await waitFor(() => a.gossip.peers().some((p) => p.id === 'z'), 'the honest heartbeat after the flood', 20_000);
    const elapsed = performance.now() - started;
    const after = a.gossip.stats();
    expect(a.gossip.peers().map((p) => p.id).sort()).toEqual(['b', 'z']);
    expect(after.dropped.unsigned - before.dropped.unsigned).toBe(6_667);
    expect(after.dropped.untrusted - before.dropped.untrusted).toBe(6_667);
    expect(after.dropped.impersonation - before.dropped.impersonation).toBe(6_666);
    // Each interval sends one digest per vendor-region and one heartbeat; z joining adds one round.
    const perRound = Object.keys(config.vendorRegions).length;
    const rounds = Math.ceil(elapsed / intervalMs) + 2;
    expect(after.published.digests - before.published.digests).toBeLessThanOrEqual(rounds * perRound);
    console.log(`20,000 invented ids: dropped in ${elapsed.toFixed(0)} ms; a published ${after.published.digests - before.published.digests} digests meanwhile (at most ${rounds * perRound} for ${rounds} rounds)`);
  });
});
