/**
 * One vendor call on undici's dispatch API: the response head as a promise, the body as a queue of
 * chunks read by one consumer. `undici.request` wraps every body in a Node Readable and every call
 * in an AbortSignal; for a stream read once, front to back, those cost two to three times the
 * call itself (bench: 70-110 µs against 31 µs a call). Only src/vendors/http.ts uses this.
 */
import type { Dispatcher } from 'undici';
import type { Headers } from './headers.js';

/** Past this many unread bytes the socket is paused until the reader catches up. */
const HIGH_WATER_BYTES = 64 * 1024;

export interface CallHead {
  statusCode: number;
  headers: Headers;
}

type Controller = Dispatcher.DispatchController;

export class VendorCall {
  readonly head: Promise<CallHead>;
  private settleHead!: { resolve: (head: CallHead) => void; reject: (error: unknown) => void };
  private controller: Controller | undefined;
  /** Why the call was stopped before undici handed us a controller: applied as soon as it does. */
  private pendingAbort: { reason: Error } | undefined;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;
  /** Set by `discard`: the bytes still allowed to arrive, unread, before the call is cut off. */
  private discarding: { left: number; over: () => void } | undefined;

  constructor(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions) {
    this.head = new Promise<CallHead>((resolve, reject) => (this.settleHead = { resolve, reject }));
    // A head nobody awaits (the call failed first) must not become an unhandled rejection.
    this.head.catch(() => undefined);
    try {
      dispatcher.dispatch(options, {
        onRequestStart: (controller) => {
          this.controller = controller;
          if (this.pendingAbort) controller.abort(this.pendingAbort.reason);
        },
        onResponseStart: (_controller, statusCode, headers) => this.settleHead.resolve({ statusCode, headers }),
        onResponseData: (controller, chunk) => this.push(controller, chunk),
        onResponseEnd: () => this.end(),
        onResponseError: (_controller, error) => this.fail(error),
      });
    } catch (error) {
      this.fail(error);
    }
  }

  /**
   * Stops the call: the head (if it has not come) and the next read reject with `reason`, and
   * what arrived unread is dropped. (A cut from the vendor's side still lets the reader have what
   * came before it.)
   */
  abort(reason: Error): void {
    if (this.controller) this.controller.abort(reason);
    else this.pendingAbort ??= { reason };
    this.queue.length = 0;
    this.queued = 0;
    this.fail(reason);
  }

  /**
   * All of the body that has arrived and not been read, as one buffer (or undefined at its end);
   * rejects with what stopped the call. Everything that came in one network read is read at once,
   * as a Readable's `read()` gives it, so the stream decoders join its tokens into one delta.
   */
  async next(): Promise<Buffer | undefined> {
    while (this.queue.length === 0) {
      if (this.failure) throw this.failure.error;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const chunk = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue, this.queued);
    this.queue.length = 0;
    this.queued = 0;
    if (this.controller?.paused) this.controller.resume();
    return chunk;
  }

  /** Whether the whole body has arrived. */
  get complete(): boolean {
    return this.ended;
  }

  /**
   * Drops what is unread and lets the rest of the body arrive unread, up to `limit` bytes, so the
   * connection can serve the next call; past it, `over` is called (it should abort).
   */
  discard(limit: number, over: () => void): void {
    this.queue.length = 0;
    this.queued = 0;
    this.controller?.resume();
    this.discarding = { left: limit, over };
  }

  private push(controller: Controller, chunk: Buffer): void {
    if (this.discarding) {
      if ((this.discarding.left -= chunk.length) < 0) this.discarding.over();
      return;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= HIGH_WATER_BYTES) controller.pause();
    this.wakeReader();
  }

  private end(): void {
    this.ended = true;
    this.wakeReader();
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    this.settleHead.reject(error);
    this.wakeReader();
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
