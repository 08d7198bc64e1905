/** The outbox holds a turn's replies and sends them together, in order, once the turn is over. */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../src/transport/index.js';

describe('Outbox', () => {
  it('sends what one turn published after that turn, in order, and each turn apart', async () => {
    const sent: string[] = [];
    const outbox = new Outbox((subject, data) => sent.push(`${subject}:${data}`));
    outbox.publish('a', '1');
    outbox.publish('b', '2');
    outbox.publish('a', '3');
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual(['a:1', 'b:2', 'a:3']);
    outbox.publish('c', '4');
    await nextTurn();
    expect(sent).toEqual(['a:1', 'b:2', 'a:3', 'c:4']);
  });

  it('sends at once when flushed, and one failed send (a closed connection) loses none of the others', async () => {
    const sent: string[] = [];
    const outbox = new Outbox((subject, data) => {
      if (data === 'bad') throw new Error('connection closed');
      sent.push(data);
    });
    outbox.publish('x', 'first');
    outbox.publish('x', 'bad');
    outbox.publish('x', 'last');
    outbox.flush();
    expect(sent).toEqual(['first', 'last']);
    await nextTurn();
    expect(sent).toEqual(['first', 'last']);
  });
});
