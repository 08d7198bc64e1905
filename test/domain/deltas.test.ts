import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coalesced, joinDeltas, type StreamEvent } from '../../src/domain/index.js';
import { EventQueue } from '../../actors/event-queue.js';

const text = (index: number, t: string): StreamEvent => ({ type: 'delta', index, delta: { type: 'text', text: t } });
const call = (index: number, argumentsJson: string, start?: { id: string; name: string }): StreamEvent => ({ type: 'delta', index, delta: { type: 'tool_call', ...start, argumentsJson } });

/** A stream as a reader takes it in, one character at a time: what joining must leave unchanged. */
function characters(events: readonly StreamEvent[]): string[] {
  return events.flatMap((e) => {
    if (e.type !== 'delta') return [e.type];
    if (e.delta.type === 'text') return [...e.delta.text].map((c) => `${e.index} text ${c}`);
    const begins = e.delta.id !== undefined || e.delta.name !== undefined ? [`${e.index} call ${e.delta.id}:${e.delta.name}`] : [];
    return [...begins, ...[...e.delta.argumentsJson].map((c) => `${e.index} json ${c}`)];
  });
}

describe('joining stream deltas', () => {
  it('joins text of one block and a call with the JSON pieces that continue it, nothing else', () => {
    expect(joinDeltas(text(0, 'Hel'), text(0, 'lo'))).toStrictEqual(text(0, 'Hello'));
    expect(joinDeltas(text(0, 'a'), text(1, 'b'))).toBeUndefined();
    expect(joinDeltas(call(1, '{"a"', { id: 'c1', name: 'f' }), call(1, ':1}'))).toStrictEqual(call(1, '{"a":1}', { id: 'c1', name: 'f' }));
    expect(joinDeltas(call(1, '{}', { id: 'c1', name: 'f' }), call(1, '{}', { id: 'c2', name: 'g' }))).toBeUndefined();
    expect(joinDeltas(text(0, 'a'), { type: 'end', stopReason: 'end_turn' })).toBeUndefined();
  });

  it('keeps every character of every block, in order, and never joins across blocks or events', () => {
    const event = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 2 }), fc.string({ maxLength: 4 })).map(([i, t]) => text(i, t)),
      fc.tuple(fc.integer({ min: 3, max: 4 }), fc.string({ maxLength: 4 }), fc.boolean()).map(([i, j, starts]) => call(i, j, starts ? { id: `c${i}`, name: 'f' } : undefined)),
      fc.constant<StreamEvent>({ type: 'usage', usage: { outputTokens: 1 } }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        const joined = coalesced(events);
        expect(characters(joined)).toStrictEqual(characters(events));
        expect(joined.length).toBeLessThanOrEqual(events.length);
        // No two neighbours are left that could have been joined.
        for (let i = 1; i < joined.length; i++) expect(joinDeltas(joined[i - 1]!, joined[i]!)).toBeUndefined();
      }),
    );
  });
});

describe('an event queue with joining', () => {
  it('joins only what its reader has not taken yet', async () => {
    const queue = new EventQueue<StreamEvent>(() => undefined, joinDeltas);
    const reader = queue[Symbol.asyncIterator]();
    const first = reader.next();
    queue.push(text(0, 'a')); // the reader waits: handed over as it is
    expect((await first).value).toStrictEqual(text(0, 'a'));
    queue.push(text(0, 'b'));
    queue.push(text(0, 'c'));
    queue.push({ type: 'end', stopReason: 'end_turn' });
    queue.close();
    expect((await reader.next()).value).toStrictEqual(text(0, 'bc'));
    expect((await reader.next()).value).toStrictEqual({ type: 'end', stopReason: 'end_turn' });
    expect((await reader.next()).done).toBe(true);
  });
});
