/**
 * Replies wait for the end of the current turn of the event loop and leave together. nats.js
 * writes whatever was published within one synchronous run as one socket write, but a node's
 * replies are made in many I/O callbacks of one turn (a vendor chunk here, a new request there),
 * and each would be its own write: under load the write calls were the largest single entry of
 * a router node's profile. `setImmediate` runs right after the turn's I/O, so a reply waits
 * microseconds, not a timer's millisecond; order is kept, since one queue holds them all.
 */
import type { Publish } from './reply-log.js';

export interface Outbox {
  publish: Publish;
  /** Publishes what is waiting now (before a drain closes the connection). */
  flush(): void;
}

export function createOutbox(send: Publish): Outbox {
  let waiting: [string, string][] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const batch = waiting;
    waiting = [];
    for (const [subject, data] of batch) send(subject, data);
  };
  return {
    publish(subject, data) {
      waiting.push([subject, data]);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
