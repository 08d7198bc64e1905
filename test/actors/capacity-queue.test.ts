/** The queue requests wait in for capacity: most important first, and a tenant's own waiters apart. */
import { describe, expect, it } from 'vitest';
import { CapacityQueue, type WaitOutcome } from '../../actors/capacity-queue.js';

describe('capacity queue', () => {
  it('wakes the most important waiters first, and a tenant held to its part only by its own releases', async () => {
    const queue = new CapacityQueue();
    const woken: string[] = [];
    const track = (name: string, wait: Promise<WaitOutcome>) => wait.then((outcome) => woken.push(`${name}:${outcome}`));
    const waits = [
      track('batch', queue.wait('batch', 5_000)),
      track('critical', queue.wait('critical', 5_000)),
      track('flood', queue.wait('batch', 5_000, undefined, 'flood')),
    ];
    queue.released('calm');
    await Promise.resolve();
    await Promise.resolve();
    // Another tenant's release wakes the shared queue, most important first, and not flood's waiter.
    expect(woken).toEqual(['critical:woken', 'batch:woken']);
    queue.released('flood');
    await Promise.all(waits);
    expect(woken).toEqual(['critical:woken', 'batch:woken', 'flood:woken']);
  });

  it('ends a wait by its timeout or its abort signal', async () => {
    const queue = new CapacityQueue();
    const controller = new AbortController();
    const aborted = queue.wait('batch', 5_000, controller.signal, 'flood');
    controller.abort();
    expect(await aborted).toBe('aborted');
    expect(await queue.wait('batch', 1)).toBe('timeout');
  });
});
