/**
 * Gossip between router nodes (docs/design.md §3-4). Each node publishes a digest of its own
 * evidence per vendor-region on `sy.state.<vendor>.<region>` whenever one of that region's health
 * actors changes state, and every interval; and a heartbeat on `sy.node.<id>` every interval. It
 * keeps the latest digest of every live peer and hands the set to the Fleet, which merges it into
 * what routing sees and what the breakers judge. A peer silent for `staleAfterMs` is dropped with
 * its digests, so a dead node's in-flight and faults leave the fleet view by themselves.
 *
 * Every message is signed with the node's NKey, and a received one counts only when signed by a
 * trusted key, speaking as the node id that key is bound to, current, and plausible; anything else
 * is dropped, counted by why, and logged at most once per interval. The peer table holds trusted
 * nodes only, so invented node ids can neither grow it nor make this node publish more.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { silentLogger, ThrottledWarnings, type Logger } from '../src/observability/index.js';
import { DEFAULT_PLAUSIBILITY, implausibleDigest, implausibleHeartbeat, type PlausibilityLimits } from '../src/transport/gossip-plausibility.js';
import { decodeGossip, DigestSchema, GOSSIP_VERSION, HeartbeatSchema, type Decoded, type Digest, type Heartbeat } from '../src/transport/gossip-schema.js';
import type { GossipSigner, TrustedRouters } from '../src/transport/gossip-signing.js';
import { Header } from '../src/transport/headers.js';
import { DEFAULT_PREFIX, nodeSubject, nodeWildcard, stateSubject, stateWildcard } from '../src/transport/subjects.js';
import type { Fleet } from './fleet.js';

export const DEFAULT_GOSSIP_INTERVAL_MS = 1_000;

export interface GossipOptions {
  connection: NatsConnection;
  fleet: Fleet;
  /** Unique per running node; a subject token (letters, digits, _ and -). */
  nodeId: string;
  environment: string;
  version: string;
  configRevision: () => number;
  /** How often digests and the heartbeat go out regardless of change (default 1 s). */
  intervalMs?: number;
  /** A peer not heard from for this long is dropped (default 3 × intervalMs: two lost intervals are tolerated). */
  staleAfterMs?: number;
  now?: () => number;
  prefix?: string;
  /** This node's key: signs everything it publishes. */
  signer: GossipSigner;
  /** The keys whose messages count, each bound to a node id. */
  trusted: TrustedRouters;
  plausibility?: Partial<PlausibilityLimits>;
  /** The health window the counts cover, for the plausibility bounds (default 30 s). */
  windowMs?: number;
  log?: Logger;
}

/** Peers at most, whatever the trust list says: the table no one can grow without end. */
export const MAX_PEERS = 1_024;

/** One live peer, as the membership sees it; the heartbeat fields are absent until its first heartbeat. */
export interface PeerInfo {
  id: string;
  environment?: string | undefined;
  version?: string | undefined;
  configRevision?: number | undefined;
  /** Requests in flight on the peer, from its last heartbeat. */
  inFlight?: number | undefined;
  startedAt?: number | undefined;
  /** When we last heard anything from it, on our clock. */
  lastSeenAt: number;
  /** Vendor-regions we hold a fresh digest of from it. */
  vendorRegions: string[];
}

/** Why received gossip was dropped. */
export interface GossipDrops {
  /** Failed the schema, or came on another subject than it names. */
  malformed: number;
  /** Older than what we hold, or sent too long ago (a replay). */
  stale: number;
  unsigned: number;
  /** Signed by a key the config does not trust. */
  untrusted: number;
  /** The signature does not match subject and payload. */
  badSignature: number;
  /** A trusted key speaking as another node id. */
  impersonation: number;
  /** Numbers no node could have seen. */
  implausible: number;
}

export interface GossipStats {
  published: { digests: number; heartbeats: number };
  received: { digests: number; heartbeats: number };
  dropped: GossipDrops;
  /** Publishes that threw (connection closed) and subscription errors (permissions). */
  errors: number;
}

export interface Gossip {
  peers(): PeerInfo[];
  stats(): GossipStats;
  stop(): Promise<void>;
}

interface Peer {
  id: string;
  heartbeat: Heartbeat | undefined;
  lastSeenAt: number;
  digests: Map<string, { digest: Digest; receivedAt: number }>;
}

export function startGossip(options: GossipOptions): Gossip {
  const { connection, fleet, nodeId } = options;
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? DEFAULT_GOSSIP_INTERVAL_MS;
  const staleAfterMs = options.staleAfterMs ?? 3 * intervalMs;
  // Checked here so a bad id fails at start, not on the first heartbeat.
  const ownSubject = nodeSubject(nodeId, prefix);
  const startedAt = Math.round(now());
  const peers = new Map<string, Peer>();
  const stats: GossipStats = {
    published: { digests: 0, heartbeats: 0 },
    received: { digests: 0, heartbeats: 0 },
    dropped: { malformed: 0, stale: 0, unsigned: 0, untrusted: 0, badSignature: 0, impersonation: 0, implausible: 0 },
    errors: 0,
  };
  const { signer, trusted } = options;
  const limits = { ...DEFAULT_PLAUSIBILITY, ...options.plausibility };
  const windowMs = options.windowMs ?? 30_000;
  const warnings = new ThrottledWarnings((options.log ?? silentLogger()).child({ component: 'gossip', node: nodeId }));
  const drop = (why: keyof GossipDrops, fields: Record<string, unknown>): void => {
    stats.dropped[why]++;
    warnings.warn(`gossip_${why}`, fields, 'dropped a gossip message');
  };
  const dirty = new Set<string>();
  let heartbeatDue = false;
  let seq = 0;
  let stopped = false;
  let publishPending: NodeJS.Immediate | undefined;
  let mergePending: NodeJS.Immediate | undefined;

  function publish(subject: string, body: Digest | Heartbeat): boolean {
    try {
      const data = new TextEncoder().encode(JSON.stringify(body));
      connection.publish(subject, data, { headers: signer.headers(subject, data) });
      return true;
    } catch {
      // Closed or draining: the node is going away, and the peers will drop it as stale.
      stats.errors++;
      return false;
    }
  }

  function publishDirty(): void {
    publishPending = undefined;
    if (stopped) return;
    // The heartbeat first: a peer that did not know us learns who we are before what we know.
    if (heartbeatDue) publishHeartbeat();
    heartbeatDue = false;
    for (const vendorRegion of dirty) {
      const digest = fleet.digest(vendorRegion, nodeId, ++seq);
      if (digest && publish(stateSubject(vendorRegion, prefix), digest)) stats.published.digests++;
    }
    dirty.clear();
  }

  /** Several state changes in one turn of the event loop (a burst of faults) make one digest. */
  function schedulePublish(vendorRegions: Iterable<string>, heartbeat = false): void {
    for (const vr of vendorRegions) dirty.add(vr);
    heartbeatDue ||= heartbeat;
    if (!publishPending && !stopped) publishPending = setImmediate(publishDirty);
  }

  function publishHeartbeat(): void {
    const heartbeat: Heartbeat = {
      v: GOSSIP_VERSION,
      node: nodeId,
      seq: ++seq,
      at: Math.round(now()),
      startedAt,
      environment: options.environment,
      version: options.version,
      configRevision: options.configRevision(),
      load: { inFlight: fleet.localInFlight() },
    };
    if (publish(ownSubject, heartbeat)) stats.published.heartbeats++;
  }

  function merge(): void {
    mergePending = undefined;
    if (stopped) return;
    fleet.applyPeerDigests([...peers.values()].flatMap((p) => [...p.digests.values()].map((d) => d.digest)));
  }

  /** A burst of digests (every peer's interval) makes one merge. */
  function scheduleMerge(): void {
    if (!mergePending && !stopped) mergePending = setImmediate(merge);
  }

  /**
   * The peer a message came from. A node we did not know (just started, or back from a partition)
   * gets our heartbeat and whole state at once, so it learns the fleet without waiting an interval.
   */
  function peerFor(id: string): Peer {
    let peer = peers.get(id);
    // Only trusted nodes get here, so the table is as large as the trust list, and never over MAX_PEERS.
    if (!peer && peers.size >= MAX_PEERS) {
      const oldest = [...peers.values()].reduce((a, b) => (a.lastSeenAt <= b.lastSeenAt ? a : b));
      peers.delete(oldest.id);
    }
    if (!peer) {
      peer = { id, heartbeat: undefined, lastSeenAt: now(), digests: new Map() };
      peers.set(id, peer);
      schedulePublish(fleet.vendorRegionIds(), true);
    }
    peer.lastSeenAt = now();
    return peer;
  }

  /**
   * The checks every message passes, cheapest first: who signed it (a map lookup), the signature,
   * the schema, then whether the signer speaks as its own node. Undefined means dropped or our own.
   */
  function admit<T extends { node: string }>(msg: Msg, decode: (data: Uint8Array) => Decoded<T>, subjectOf: (value: T) => string): T | undefined {
    if (msg.headers?.get(Header.Signer) === signer.publicKey) return undefined;
    const verdict = trusted.verify(msg.subject, msg.data, msg.headers);
    if (!verdict.ok) {
      drop(verdict.reason === 'bad_signature' ? 'badSignature' : verdict.reason, { subject: msg.subject, signer: msg.headers?.get(Header.Signer) ?? null });
      return undefined;
    }
    const decoded = decode(msg.data);
    if (!decoded.ok || msg.subject !== subjectOf(decoded.value)) {
      drop('malformed', { subject: msg.subject, from: verdict.node, why: decoded.ok ? 'wrong subject' : decoded.reason.slice(0, 200) });
      return undefined;
    }
    if (decoded.value.node !== verdict.node) {
      drop('impersonation', { subject: msg.subject, from: verdict.node, claimed: decoded.value.node });
      return undefined;
    }
    return decoded.value;
  }

  function onDigest(msg: Msg): void {
    const digest = admit(msg, (data) => decodeGossip(DigestSchema, data), (d) => stateSubject(d.vendorRegion, prefix));
    if (!digest) return;
    const why = implausibleDigest(digest, now(), windowMs, limits);
    if (why) return why.startsWith('sent ') ? drop('stale', { from: digest.node, why }) : drop('implausible', { from: digest.node, why });
    stats.received.digests++;
    const peer = peerFor(digest.node);
    const held = peer.digests.get(digest.vendorRegion);
    if (held && held.digest.seq >= digest.seq) {
      stats.dropped.stale++;
      return;
    }
    peer.digests.set(digest.vendorRegion, { digest, receivedAt: now() });
    scheduleMerge();
  }

  function onHeartbeat(msg: Msg): void {
    const heartbeat = admit(msg, (data) => decodeGossip(HeartbeatSchema, data), (h) => nodeSubject(h.node, prefix));
    if (!heartbeat) return;
    const why = implausibleHeartbeat(heartbeat, now(), limits);
    if (why) return why.startsWith('sent ') ? drop('stale', { from: heartbeat.node, why }) : drop('implausible', { from: heartbeat.node, why });
    stats.received.heartbeats++;
    const peer = peerFor(heartbeat.node);
    if (peer.heartbeat && peer.heartbeat.startedAt === heartbeat.startedAt && peer.heartbeat.seq >= heartbeat.seq) {
      stats.dropped.stale++;
      return;
    }
    if (peer.heartbeat && peer.heartbeat.startedAt !== heartbeat.startedAt) {
      // Restarted under the same id: its old digests describe requests that died with the process,
      // and its sequence numbers start again, so what we held would shadow the new ones.
      peer.digests.clear();
      scheduleMerge();
    }
    peer.heartbeat = heartbeat;
  }

  /** Drops silent peers, and digests of vendor-regions a live peer no longer reports (a config change). */
  function sweep(): void {
    const at = now();
    let changed = false;
    for (const [id, peer] of peers) {
      if (at - peer.lastSeenAt > staleAfterMs) {
        peers.delete(id);
        changed = true;
        continue;
      }
      for (const [vr, held] of peer.digests) {
        if (at - held.receivedAt > staleAfterMs) {
          peer.digests.delete(vr);
          changed = true;
        }
      }
    }
    if (changed) scheduleMerge();
  }

  const subscribe = (subject: string, handle: (msg: Msg) => void): Subscription =>
    connection.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          stats.errors++;
          return;
        }
        try {
          handle(msg);
        } catch {
          // Whatever a peer sent, this node keeps routing.
          drop('malformed', { subject: msg.subject, why: 'the handler threw' });
        }
      },
    });
  // Subscribed before our first heartbeat: NATS handles one connection's SUBs and PUBs in order, so
  // the peers' answers to it (their whole state) reach us.
  const subscriptions = [subscribe(stateWildcard(prefix), onDigest), subscribe(nodeWildcard(prefix), onHeartbeat)];
  const unlisten = fleet.onStateChange((vendorRegion) => schedulePublish([vendorRegion]));

  function everyInterval(): void {
    schedulePublish(fleet.vendorRegionIds(), true);
  }
  everyInterval();
  const interval = setInterval(everyInterval, intervalMs);
  // Sweeping more often than the interval drops a dead peer close to staleAfterMs, not up to an interval later.
  const sweeper = setInterval(sweep, Math.max(10, Math.min(intervalMs, staleAfterMs) / 4));
  // A gossiping node is kept alive by its NATS connection, not by these timers.
  interval.unref();
  sweeper.unref();

  return {
    peers: () =>
      [...peers.values()].map((p) => ({
        id: p.id,
        environment: p.heartbeat?.environment,
        version: p.heartbeat?.version,
        configRevision: p.heartbeat?.configRevision,
        inFlight: p.heartbeat?.load.inFlight,
        startedAt: p.heartbeat?.startedAt,
        lastSeenAt: p.lastSeenAt,
        vendorRegions: [...p.digests.keys()],
      })),
    stats: () => structuredClone(stats),
    stop: () => {
      if (stopped) return Promise.resolve();
      stopped = true;
      clearInterval(interval);
      clearInterval(sweeper);
      if (publishPending) clearImmediate(publishPending);
      if (mergePending) clearImmediate(mergePending);
      unlisten();
      for (const subscription of subscriptions) {
        try {
          subscription.unsubscribe();
        } catch {
          // The connection is already closed; nothing more will arrive.
        }
      }
      peers.clear();
      // Without gossip this node knows nothing current about its peers; old numbers must not linger.
      fleet.applyPeerDigests([]);
      return Promise.resolve();
    },
  };
}
