/**
 * Joining stream fragments: two deltas of one block, one after the other, say the same as one
 * delta with both pieces. Whoever holds deltas that nobody has read yet (a network read's worth,
 * a queue its reader has not emptied) may pass them on joined, so every layer above pays per
 * delta it is handed, not per token the vendor sent.
 */
import type { StreamEvent } from './canonical.js';

/** `first` and `next` as one event, when they are fragments of one block; undefined otherwise. */
export function joinDeltas(first: StreamEvent, next: StreamEvent): StreamEvent | undefined {
  if (first.type !== 'delta' || next.type !== 'delta' || first.index !== next.index) return undefined;
  const a = first.delta;
  const b = next.delta;
  if (a.type === 'text' && b.type === 'text') return { type: 'delta', index: first.index, delta: { type: 'text', text: a.text + b.text } };
  // A fragment naming an id or a name starts a call; only the JSON pieces after it continue one.
  if (a.type === 'tool_call' && b.type === 'tool_call' && b.id === undefined && b.name === undefined) {
    return { type: 'delta', index: first.index, delta: { ...a, argumentsJson: a.argumentsJson + b.argumentsJson } };
  }
  return undefined;
}

/** `events` with each run of fragments of one block joined. */
export function coalesced(events: readonly StreamEvent[]): readonly StreamEvent[] {
  if (events.length < 2) return events;
  const out: StreamEvent[] = [];
  for (const event of events) {
    const last = out[out.length - 1];
    const joined = last ? joinDeltas(last, event) : undefined;
    if (joined) out[out.length - 1] = joined;
    else out.push(event);
  }
  return out;
}
