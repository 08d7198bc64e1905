/**
 * Requests waiting briefly for capacity (DESIGN.md section 5: admission drops or briefly queues
 * the lowest priority first). A released reservation wakes the most important waiters first, in
 * arrival order within a priority; each woken request tries admission again. Bounded in length,
 * and every wait ends by its own timeout or the request's abort signal.
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
  private size = 0;

  constructor(private readonly limit = 10_000) {}

  wait(priority: Priority, timeoutMs: number, signal?: AbortSignal): Promise<WaitOutcome> {
    if (signal?.aborted) return Promise.resolve('aborted');
    if (this.size >= this.limit || timeoutMs <= 0) return Promise.resolve(timeoutMs <= 0 ? 'timeout' : 'full');
    const queue = this.queues[PRIORITIES.indexOf(priority)]!;
    return new Promise<WaitOutcome>((resolve) => {
      const waiter: Waiter = {
        wake: (outcome) => {
          if (!queue.delete(waiter)) return;
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

  /** Capacity was freed: the most important waiters try again. */
  released(): void {
    let woken = 0;
    for (const queue of this.queues) {
      for (const waiter of queue) {
        if (woken++ >= WAKE_PER_RELEASE) return;
        waiter.wake('woken');
      }
    }
  }
}
