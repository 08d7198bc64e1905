/** Server-sent events from bytes cut anywhere: inside a line, inside a UTF-8 character. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sseEvents, type SseEvent } from '../../src/vendors/sse.js';

/** The bytes as a body that arrives in pieces, cut at `cuts`, each piece on a later turn. */
async function* pieces(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    await Promise.resolve();
    yield bytes.subarray(from, cut);
    from = cut;
  }
  yield bytes.subarray(from);
}

async function read(body: AsyncIterable<Uint8Array>): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const batch of sseEvents(body)) events.push(...batch);
  return events;
}

describe('sseEvents', () => {
  it('reads the same events however the bytes are cut, multi-byte characters included', async () => {
    // Text without line breaks, so each generated datum is one `data:` line; any code point.
    const datum = fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).filter((s) => !/[\r\n]/.test(s) && s.trim() === s);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ event: fc.option(fc.constantFrom('message_start', 'error'), { nil: undefined }), data: datum }), { minLength: 1, maxLength: 8 }), fc.array(fc.nat()), async (sent, rawCuts) => {
        const text = sent.map((e) => `${e.event ? `event: ${e.event}\n` : ''}data: ${e.data}\n\n`).join('');
        const bytes = new TextEncoder().encode(text);
        const cuts = rawCuts.map((c) => c % (bytes.length + 1));
        expect(await read(pieces(bytes, cuts))).toEqual(sent.map((e) => ({ event: e.event, data: e.data })));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a character cut between two reads whole (a euro sign, three bytes, split after its first)', async () => {
    const bytes = new TextEncoder().encode('data: 5 €\n\n');
    const euro = bytes.indexOf(0xe2);
    expect(euro).toBeGreaterThan(0);
    expect(await read(pieces(bytes, [euro + 1]))).toEqual([{ event: undefined, data: '5 €' }]);
  });
});
