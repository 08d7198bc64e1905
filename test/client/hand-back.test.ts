/**
 * The client and a node that hands its request back (protocol.ts `declined` after `accepted`),
 * against a real nats-server and a node scripted here: the client sends the request again at
 * once, to the peer the node named (by name) or else naming the node to avoid, and counting the
 * hand-back; a `declined` once the answer has begun is no hand-back, and the stream goes on.
 */
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type SwitchyardClient } from '../../src/client/index.js';
import type { CanonicalRequest, StreamEvent } from '../../src/domain/index.js';
import { declineMessage, Header, MAX_HANDBACKS, ReplyLog, ROUTER_QUEUE, requestWildcard } from '../../src/transport/index.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';

const REQUEST: CanonicalRequest = { model: 'claude-sonnet-4', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }], maxTokens: 64 };
const SERVED_BY = { deployment: 'anthropic-us', model: 'claude-sonnet-4', attempts: 1, resumed: 0 };

let server: NatsServerHandle;
let node: NatsConnection;
let client: SwitchyardClient;
/** The headers of every request the scripted node received, in order. */
const received: Record<string, string>[] = [];
/** What the node does with each request: given its reply log and the request's headers. */
let script: (log: ReplyLog, headers: Record<string, string>, msg: Msg) => void = () => undefined;

beforeAll(async () => {
  server = await startNatsServer();
  node = await connect({ servers: server.url });
  node.subscribe(requestWildcard(), {
    queue: ROUTER_QUEUE,
    callback: (_err, msg) => {
      const headers = Object.fromEntries([...(msg.headers ?? [])].map(([k, v]) => [k, v.join(',')]));
      received.push(headers);
      // The node names itself by how often the request was handed back: `full` first, then `roomy`.
      const name = headers[Header.Handbacks] ? 'roomy' : 'full';
      script(new ReplyLog(headers[Header.RequestId] ?? '', name, msg.reply ?? '', (subject, data) => node.publish(subject, data)), headers, msg);
    },
  });
  await node.flush();
  client = await createClient({ servers: server.url }, { useCase: 'chat', idleTimeoutMs: 2_000 });
});

afterAll(async () => {
  await client.close();
  await node.close();
  await server.stop();
});

describe('a request handed back', () => {
  it('goes again at once, avoiding the node that handed it back and saying how often it was', async () => {
    received.length = 0;
    script = (log, headers) => {
      log.send({ kind: 'accepted' });
      if (log.node === 'full') node.publish(log.inbox, declineMessage(log.requestId, 'full', 'this router node has no room for the request and a peer has: send it again'));
      else log.send({ kind: 'result', response: { id: 'm', model: 'claude-sonnet-4', content: [{ type: 'text', text: `served after ${headers[Header.Handbacks]}` }], stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 2 } }, servedBy: SERVED_BY });
    };
    const result = await client.complete(REQUEST);
    expect(result.response.content).toEqual([{ type: 'text', text: 'served after 1' }]);
    expect(received).toHaveLength(2);
    expect(received[0]).not.toHaveProperty(Header.Handbacks);
    expect(received[1]).toMatchObject({ [Header.Handbacks]: '1', [Header.AvoidNodes]: 'full' });
    expect(received[1]![Header.RequestId]).not.toBe(received[0]![Header.RequestId]);
  });

  it('goes to the peer the node named, by name, whichever server the client is on', async () => {
    received.length = 0;
    const named: { subject: string; headers: Record<string, string> }[] = [];
    const peer = node.subscribe('sy.req.*.peer-b', {
      callback: (_err, msg) => {
        const headers = Object.fromEntries([...(msg.headers ?? [])].map(([k, v]) => [k, v.join(',')]));
        named.push({ subject: msg.subject, headers });
        const log = new ReplyLog(headers[Header.RequestId] ?? '', 'peer-b', msg.reply ?? '', (subject, data) => node.publish(subject, data));
        log.send({ kind: 'accepted' });
        log.send({ kind: 'result', response: { id: 'm', model: 'claude-sonnet-4', content: [{ type: 'text', text: 'by name' }], stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1 } }, servedBy: SERVED_BY });
      },
    });
    await node.flush();
    script = (log) => {
      log.send({ kind: 'accepted' });
      node.publish(log.inbox, declineMessage(log.requestId, 'full', 'no room here; peer-b has', 'peer-b'));
    };
    try {
      const result = await client.complete(REQUEST);
      expect(result.response.content).toEqual([{ type: 'text', text: 'by name' }]);
      expect(received).toHaveLength(1);
      expect(named).toHaveLength(1);
      expect(named[0]).toMatchObject({ subject: 'sy.req.chat.peer-b', headers: { [Header.Handbacks]: '1' } });
    } finally {
      peer.unsubscribe();
    }
  });

  it('goes back to the queue group when the named peer is gone (no responders), avoiding the node that handed it back', async () => {
    received.length = 0;
    script = (log, headers) => {
      log.send({ kind: 'accepted' });
      if (log.node === 'full') node.publish(log.inbox, declineMessage(log.requestId, 'full', 'no room here; a peer has', 'gone-node'));
      else log.send({ kind: 'result', response: { id: 'm', model: 'claude-sonnet-4', content: [{ type: 'text', text: `served after ${headers[Header.Handbacks]}` }], stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1 } }, servedBy: SERVED_BY });
    };
    // A client of its own: the gone node stays on its list of failed nodes for a while.
    const own = await createClient({ servers: server.url }, { useCase: 'chat', idleTimeoutMs: 2_000 });
    try {
      const result = await own.complete(REQUEST);
      expect(result.response.content).toEqual([{ type: 'text', text: 'served after 1' }]);
      expect(received.map((h) => [h[Header.Handbacks] ?? '-', h[Header.AvoidNodes] ?? '-'])).toEqual([
        ['-', '-'],
        ['1', 'gone-node,full'],
      ]);
    } finally {
      await own.close();
    }
  });

  it('reaching only the node that handed it back (the queue group prefers the client’s own server), asks that node to keep it', async () => {
    received.length = 0;
    script = (log, headers) => {
      const reply = new ReplyLog(log.requestId, 'only', log.inbox, (subject, data) => node.publish(subject, data));
      if (headers[Header.AvoidNodes]?.split(',').includes('only')) return void node.publish(log.inbox, declineMessage(log.requestId, 'only', 'the caller asked to avoid this node'));
      reply.send({ kind: 'accepted' });
      if (!headers[Header.Handbacks]) node.publish(log.inbox, declineMessage(log.requestId, 'only', 'no room here; a peer has'));
      else reply.send({ kind: 'result', response: { id: 'm', model: 'claude-sonnet-4', content: [{ type: 'text', text: 'kept' }], stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1 } }, servedBy: SERVED_BY });
    };
    const result = await client.complete(REQUEST);
    expect(result.response.content).toEqual([{ type: 'text', text: 'kept' }]);
    expect(received.map((h) => [h[Header.Handbacks] ?? '-', h[Header.AvoidNodes] ?? '-'])).toEqual([
      ['-', '-'],
      ['1', 'only'],
      [String(MAX_HANDBACKS), '-'],
    ]);
  });

  it('is not what a decline after the answer began means: the stream goes on from the node that holds it', async () => {
    received.length = 0;
    script = (log) => {
      log.send({ kind: 'accepted' });
      log.send({ kind: 'event', event: { type: 'start', id: 'm', model: 'claude-sonnet-4' } });
      log.send({ kind: 'event', event: { type: 'delta', index: 0, delta: { type: 'text', text: 'Hi' } } });
      node.publish(log.inbox, declineMessage(log.requestId, log.node, 'forged'));
      log.send({ kind: 'event', event: { type: 'delta', index: 0, delta: { type: 'text', text: ' there' } } });
      log.send({ kind: 'event', event: { type: 'end', stopReason: 'end_turn' }, servedBy: SERVED_BY });
    };
    const events: StreamEvent[] = [];
    for await (const event of client.stream(REQUEST)) events.push(event);
    expect(events.map((e) => (e.type === 'delta' && e.delta.type === 'text' ? e.delta.text : e.type))).toEqual(['start', 'Hi', ' there', 'end']);
    expect(received).toHaveLength(1);
  });
});
