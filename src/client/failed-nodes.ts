/**
 * The router nodes a client has just seen fail (silent while holding a request, or unable to replay
 * what it sent). A resend names them in `sy-avoid-nodes` and they decline it, so the queue group
 * cannot hand the request straight back to the node that lost it. Forgotten after a while: a
 * node that restarts under its id deserves requests again.
 */
import { MAX_AVOIDED_NODES } from '../transport/index.js';

export const FAILED_NODE_MEMORY_MS = 30_000;

export class FailedNodes {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly memoryMs = FAILED_NODE_MEMORY_MS,
    private readonly now: () => number = Date.now,
  ) {}

  note(node: string): void {
    this.seen.delete(node);
    this.seen.set(node, this.now());
  }

  /** The most recent failures first, at most as many as a request may name. */
  list(): string[] {
    const since = this.now() - this.memoryMs;
    for (const [node, at] of this.seen) if (at < since) this.seen.delete(node);
    return [...this.seen.keys()].reverse().slice(0, MAX_AVOIDED_NODES);
  }
}
