/** One router node on a real nats-server: the request protocol's edges (malformed input, cancel, $SRV, drain). */
import { connect, createInbox, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterNode, type RouterNode } from '../../actors/node.js';
import { ReplySchema, type Reply } from '../../src/transport/index.js';
import { FaultSchema, configForSimulator, simulatorSecretsFor, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { seedConfig } from '../helpers/simulator.js';

let nats: NatsServerHandle;
let simulator: RunningSimulator;
let nc: NatsConnection;
let client: NatsConnection;
let node: RouterNode;

const TOKEN = 'caller-token-of-node-test-0001';
const body = { model: 'claude-sonnet-4', maxTokens: 64, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] };

/** Sends raw bytes on a subject and collects the replies until a terminal one. */
async function exchange(subject: string, payload: string, head: Record<string, string> = {}): Promise<Reply[]> {
  const inbox = createInbox();
  const sub = client.subscribe(inbox);
  const h = natsHeaders();
  for (const [k, v] of Object.entries(head)) h.set(k, v);
  client.publish(subject, payload, { reply: inbox, headers: h });
  const replies: Reply[] = [];
  for await (const msg of sub) {
    const reply = ReplySchema.parse(msg.json());
    if (reply.kind === 'keepalive') continue;
    replies.push(reply);
    if (reply.kind === 'error' || reply.kind === 'result' || (reply.kind === 'event' && reply.event.type === 'end')) break;
  }
  sub.unsubscribe();
  return replies;
}

beforeAll(async () => {
  nats = await startNatsServer();
  const config = await seedConfig();
  simulator = await startSimulator({ config, latencyScale: 0 });
  nc = await connect({ servers: nats.url });
  client = await connect({ servers: nats.url });
  node = startRouterNode({
    connection: nc,
    config: configForSimulator(config, simulator.endpoints()),
    nodeId: 'solo',
    deps: { secrets: simulatorSecretsFor(config, simulator.credentials) },
    system: { environment: 'us_prod' },
    graceMs: 2_000,
    gossipIntervalMs: 200,
  });
  await nc.flush();
});

afterAll(async () => {
  await node.drain(100);
  await Promise.all([nc.close(), client.close()]);
  await simulator.close();
  await nats.stop();
});

describe('router node', () => {
  it('answers a plain request: accepted, then one result naming who served it', async () => {
    const replies = await exchange('sy.req.otherwise', JSON.stringify(body), { 'sy-request-id': 'plain-1' });
    expect(replies[0]).toMatchObject({ kind: 'accepted', id: 'plain-1', seq: 0, node: 'solo' });
    // The caller sent no token, so the node made one up and told the caller alone.
    expect(replies[0]).toHaveProperty('token', expect.stringMatching(/^[A-Za-z0-9_-]{24}$/));
    expect(replies.at(-1)).toMatchObject({ kind: 'result', id: 'plain-1', servedBy: { model: 'claude-sonnet-4', attempts: 1 } });
    expect(replies.map((r) => ('seq' in r ? r.seq : -1))).toEqual(replies.map((_, i) => i));
  });

  it.each([
    ['a body that is not JSON', '{"model":', {}, 'body'],
    ['a request without messages', JSON.stringify({ model: 'claude-sonnet-4', maxTokens: 10 }), {}, 'messages'],
    ['a negative max tokens', JSON.stringify({ ...body, maxTokens: -1 }), {}, 'maxTokens'],
    ['a priority that does not exist', JSON.stringify(body), { 'sy-priority': 'urgent' }, 'header priority'],
    ['a deadline that is not a number', JSON.stringify(body), { 'sy-deadline-ms': 'soon' }, 'header deadlineMs'],
    ['a hand-back count that is not a number', JSON.stringify(body), { 'sy-handbacks': 'many' }, 'header handbacks'],
    ['a request id with a dot', JSON.stringify(body), { 'sy-request-id': 'a.b' }, 'header requestId'],
    ['a user message holding a tool call', JSON.stringify({ ...body, model: 'gpt-4.1', messages: [{ role: 'user', content: [{ type: 'tool_call', id: 't1', name: 'x', arguments: {} }] }] }), {}, 'messages.0.content.0'],
    ['a 20,000-deep tool schema', `{"model":"gpt-4.1","maxTokens":9,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"tools":[{"name":"t","inputSchema":{"p":${'['.repeat(20_000)}${']'.repeat(20_000)}}}]}`, {}, 'body'],
  ])('refuses %s with a typed error naming the field, and keeps serving', async (_name, payload, head, field) => {
    const replies = await exchange('sy.req.otherwise', payload, head);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ kind: 'error', error: { code: 'invalid_request', field, retryable: false } });
    expect((await exchange('sy.req.otherwise', JSON.stringify(body))).at(-1)?.kind).toBe('result');
  });

  it('returns a typed no_route error for a model no route serves', async () => {
    const replies = await exchange('sy.req.otherwise', JSON.stringify({ ...body, model: 'claude-opus-9' }));
    expect(replies.at(-1)).toMatchObject({ kind: 'error', error: { code: 'no_route' } });
  });

  it('stops a streaming request on sy.cancel.<id> carrying the caller token, and the vendor sees the close', async () => {
    const fault = simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: 'anthropic', kind: 'drip', intervalMs: 50 }));
    const fault2 = simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: 'bedrock/us-west-2', kind: 'drip', intervalMs: 50 }));
    try {
      const inbox = createInbox();
      const sub = client.subscribe(inbox);
      const h = natsHeaders();
      h.set('sy-request-id', 'cancel-me');
      h.set('sy-stream', '1');
      h.set('sy-caller-token', TOKEN);
      client.publish('sy.req.otherwise', JSON.stringify(body), { reply: inbox, headers: h });
      const seen: Reply[] = [];
      for await (const msg of sub) {
        const reply = ReplySchema.parse(msg.json());
        seen.push(reply);
        if (reply.kind === 'event' && reply.event.type === 'delta') {
          // Without the token, or with another, a cancel changes nothing; with it, the stream stops.
          client.publish('sy.cancel.cancel-me', '');
          client.publish('sy.cancel.cancel-me', JSON.stringify({ token: 'x'.repeat(24) }));
          client.publish('sy.cancel.cancel-me', JSON.stringify({ token: TOKEN }));
        }
        if (reply.kind === 'error' || (reply.kind === 'event' && reply.event.type === 'end')) break;
      }
      sub.unsubscribe();
      expect(seen.at(-1)).toMatchObject({ kind: 'error', error: { code: 'cancelled' } });
      expect(node.counts().refused).toMatchObject({ cancel_malformed: 1, cancel_wrong_token: 1 });
      await expect.poll(() => Object.values(simulator.simulation.stats.snapshot()).reduce((sum, s) => sum + s.closedByClient, 0)).toBeGreaterThan(0);
    } finally {
      simulator.simulation.faults.remove(fault.id);
      simulator.simulation.faults.remove(fault2.id);
    }
  });

  it('answers $SRV.PING for the service switchyard, and sy.admin.state', async () => {
    const ping = await client.request('$SRV.PING.switchyard', '', { timeout: 2000 });
    expect(ping.json()).toMatchObject({ type: 'io.nats.micro.v1.ping_response', name: 'switchyard', id: 'solo' });
    const state = await client.request('sy.admin.state', '', { timeout: 2000 });
    expect(state.json()).toMatchObject({ nodeId: 'solo', state: 'serving', environment: 'us_prod' });
  });
});
