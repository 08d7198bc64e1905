/**
 * Requests waiting briefly for capacity (docs/design.md §5: admission drops or briefly queues
 * the lowest priority first). A released reservation wakes the most important waiters first, in
 * arrival order within a priority; each woken request tries admission again. Bounded in length,
 * and every wait ends by its own timeout or the request's abort signal.
 *
 * A request held back only by its tenant's part on this node (tenant-book.ts) waits apart, by
 * tenant: only a release of that tenant's own reservations can let it in, so it is woken by those
 * alone. In the shared queue it would take wake-ups meant for others, and handing them on would
 * send a wake-up round the queue for as long as that tenant waits.
 */
import { PRIORITIES, type Priority } from '../src/domain/index.js';

export type WaitOutcome = 'woken' | 'timeout' | 'aborted' | 'full';

interface Waiter {
  wake(outcome: WaitOutcome): void;
}

/** A release frees one seat; waking a few covers a woken request finding its own deployment still full. */
const WAKE_PER_RELEASE = 4;

export class CapacityQueue {
  /** One FIFO per priority, most important first. */
  private readonly queues: Set<Waiter>[] = PRIORITIES.map(() => new Set<Waiter>());
  /** Requests waiting for their own tenant's seats, by tenant. */
  private readonly byTenant = new Map<string, Set<Waiter>>();
  private size = 0;

  constructor(private readonly limit = 10_000) {}

  /** Waits for a seat; with `tenant`, for a seat of that tenant's own. */
  wait(priority: Priority, timeoutMs: number, signal?: AbortSignal, tenant?: string): Promise<WaitOutcome> {
    if (signal?.aborted) return Promise.resolve('aborted');
    if (this.size >= this.limit || timeoutMs <= 0) return Promise.resolve(timeoutMs <= 0 ? 'timeout' : 'full');
    let queue: Set<Waiter>;
    if (tenant === undefined) queue = this.queues[PRIORITIES.indexOf(priority)]!;
    else {
      const existing = this.byTenant.get(tenant);
      if (existing) queue = existing;
      else this.byTenant.set(tenant, (queue = new Set()));
    }
    return new Promise<WaitOutcome>((resolve) => {
      const waiter: Waiter = {
        wake: (outcome) => {
          if (!queue.delete(waiter)) return;
          if (tenant !== undefined && queue.size === 0) this.byTenant.delete(tenant);
          this.size--;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
      };
      const onAbort = () => waiter.wake('aborted');
      const timer = setTimeout(() => waiter.wake('timeout'), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.add(waiter);
      this.size++;
    });
  }

  /** Capacity was freed (by `tenant`'s reservation, when said): the most important waiters, and that tenant's own, try again. */
  released(tenant?: string): void {
    if (tenant !== undefined) wakeSome([this.byTenant.get(tenant)]);
    wakeSome(this.queues);
  }
}

function wakeSome(queues: readonly (Set<Waiter> | undefined)[]): void {
  let woken = 0;
  for (const queue of queues) {
    for (const waiter of queue ?? []) {
      if (woken++ >= WAKE_PER_RELEASE) return;
      waiter.wake('woken');
    }
  }
}
