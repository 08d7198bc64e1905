/**
 * Turns a protocol's decoded events into a VendorStream: exactly one `end`, never a success without
 * the terminal event, in-stream errors and cuts thrown as classified VendorErrors, metrics taken
 * on the way, and the upstream closed when the consumer stops early.
 *
 * Fragments of one block that arrived in the same network read reach the consumer as one delta
 * (domain/deltas.ts): the request machine, the reply messages and the caller's client each pay per
 * delta, not per vendor token. A vendor that sends tokens as they come still gets one per token.
 */
import { coalesced, type StreamEvent } from '../domain/index.js';
import { classifyStreamError, truncatedStream, type FailureSource } from './classify.js';
import type { VendorHttpResponse } from './http.js';
import type { VendorStream } from './types.js';

export interface StreamSource {
  /** Batches of canonical events, in order, as the protocol decoder produces them. */
  batches: AsyncIterable<StreamEvent[]>;
  /** What the protocol calls its terminal event, for the truncation message. */
  terminal: string;
}

export function createVendorStream(source: FailureSource, response: VendorHttpResponse, stream: StreamSource): VendorStream {
  const { timer } = response;
  let finished = false;

  async function* events(): AsyncGenerator<StreamEvent> {
    try {
      for await (const batch of stream.batches) {
        for (const event of coalesced(batch)) {
          switch (event.type) {
            case 'delta':
              timer.token();
              break;
            case 'usage':
              timer.addUsage(event.usage);
              break;
            case 'error':
              throw classifyStreamError({ ...source, vendorCode: event.error.code, message: event.error.message });
            case 'end':
              timer.end();
              finished = true;
              yield event;
              return;
            case 'start':
              break;
          }
          yield event;
        }
      }
      throw truncatedStream(source, stream.terminal);
    } catch (error) {
      throw response.bodyFailure(error);
    } finally {
      timer.end();
      response.release();
      // Whether it ended, failed or the consumer broke out: release the connection now.
      if (!finished) response.abort();
      else response.finish();
    }
  }

  const iterator = events();
  return {
    [Symbol.asyncIterator]: () => iterator,
    get metrics() {
      return timer.snapshot();
    },
    cancel: () => {
      response.abort();
      void iterator.return(undefined);
    },
  };
}

