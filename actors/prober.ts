/**
 * Which node probes a half-open deployment or vendor-region: exactly one in the fleet, chosen
 * without a central store. Every node ranks itself and the live peers that gossip about the
 * vendor-region by a hash of node id and actor id, and the lowest probes; the others wait for its
 * verdict in its digest. The choice spreads probing across nodes by deployment, is the same on
 * every node that sees the same peers, and moves when the prober falls silent and is dropped.
 */
export function electedProber(actorId: string, self: string, peers: Iterable<string>): string {
  let best = self;
  let bestRank = rank(self, actorId);
  for (const peer of peers) {
    const r = rank(peer, actorId);
    if (r < bestRank || (r === bestRank && peer < best)) {
      best = peer;
      bestRank = r;
    }
  }
  return best;
}

/** FNV-1a, 32 bits: the same on every node and platform. */
function rank(node: string, actorId: string): number {
  let hash = 0x811c9dc5;
  for (const char of `${node}\u0000${actorId}`) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
