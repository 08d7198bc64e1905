/**
 * Server-sent events from a response body: bytes may split anywhere (inside a line, inside a UTF-8
 * character), so decoding streams through a TextDecoder and eventsource-parser.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseEvent {
  event?: string | undefined;
  data: string;
}

/** Yields the events of an SSE body in order, as soon as each is complete. */
export async function* sseEvents(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent[]> {
  const decoder = new TextDecoder();
  let pending: SseEvent[] = [];
  const parser = createParser({
    onEvent: (message: EventSourceMessage) => pending.push({ event: message.event, data: message.data }),
  });
  for await (const chunk of body) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (pending.length > 0) {
      const ready = pending;
      pending = [];
      yield ready;
    }
  }
  parser.feed(decoder.decode());
  if (pending.length > 0) yield pending;
}
