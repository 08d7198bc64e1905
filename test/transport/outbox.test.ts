import { describe, expect, it } from 'vitest';
import { createOutbox } from '../../src/transport/index.js';

describe('the reply outbox', () => {
  it('sends what one turn published, in order, once that turn has run', async () => {
    const sent: string[] = [];
    const outbox = createOutbox((subject, data) => sent.push(`${subject} ${data}`));
    outbox.publish('_INBOX.a', '1');
    outbox.publish('_INBOX.b', '2');
    outbox.publish('_INBOX.a', '3');
    expect(sent).toStrictEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toStrictEqual(['_INBOX.a 1', '_INBOX.b 2', '_INBOX.a 3']);
    // A later turn's replies follow, and a flush sends at once.
    outbox.publish('_INBOX.a', '4');
    outbox.flush();
    expect(sent.at(-1)).toBe('_INBOX.a 4');
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toHaveLength(4);
  });
});
