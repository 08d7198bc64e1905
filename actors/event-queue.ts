/**
 * An async queue from push-style emitters to a pull-style `for await`: what a caller reads a
 * stream through. With `join`, an item pushed while the reader is behind may be joined to the
 * last one still waiting (stream deltas), so a slow reader takes fewer, larger items.
 */
export class EventQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private closed = false;

  constructor(
    private readonly onReturn: () => void = () => {},
    private readonly join?: (last: T, next: T) => T | undefined,
  ) {}

  push(item: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: item, done: false });
      return;
    }
    const last = this.items.length > 0 ? this.items[this.items.length - 1] : undefined;
    const joined = last !== undefined && this.join ? this.join(last, item) : undefined;
    if (joined !== undefined) this.items[this.items.length - 1] = joined;
    else this.items.push(item);
  }

  close(): void {
    this.closed = true;
    if (this.waiting && this.items.length === 0) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      // The reader stopped early: whatever produces the items should stop too.
      return: () => {
        this.closed = true;
        this.items.length = 0;
        this.onReturn();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
