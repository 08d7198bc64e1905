/**
 * Hand-backs between two real router nodes on a real nats-server (protocol.ts): a node whose part
 * of a deployment is full, while its peer's part has room, declines the request before calling
 * any vendor, naming that peer, and a request already handed back as often as allowed is kept and
 * waits instead. A request sent to a node by name (`sy.req.<usecase>.<node>`) reaches it alone.
 * Requests are steered to a node with `sy-avoid-nodes`, which the other node declines; gossip runs
 * once at start (a long interval), so both nodes keep the even parts they began with.
 */
import { connect, createInbox, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterNode, type RouterNode } from '../../actors/node.js';
import { ConfigSchema, type Config } from '../../src/config/index.js';
import { configForSimulator, simulatorSecretsFor, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { generateSigner, Header, MAX_HANDBACKS, ReplySchema, type Reply } from '../../src/transport/index.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';

const DEPLOYMENT = 'claude-sonnet-4@anthropic';
const config: Config = ConfigSchema.parse({
  vendorRegions: {
    anthropic: {
      credentials: { apiKey: { env: 'ANTHROPIC_API_KEY' } },
      // Two seats for the fleet: one for each node.
      deployments: { 'claude-sonnet-4': { vendorModelId: 'claude-sonnet-4-20250514', quota: { rpm: 100_000, tpm: 100_000_000, concurrency: 2 } } },
    },
  },
  models: { 'claude-sonnet-4': {} },
  routes: { CLAUDE_SONNET_4: { test: 'anthropic' } },
});
const body = JSON.stringify({ model: 'claude-sonnet-4', maxTokens: 10, messages: [{ role: 'user', content: [{ type: 'text', text: 'hand me back' }] }] });

let nats: NatsServerHandle;
let simulator: RunningSimulator;
let caller: NatsConnection;
const connections: NatsConnection[] = [];
const nodes = new Map<string, RouterNode>();

interface Sent {
  /** Resolves with the first reply (accepted or declined). */
  first: Promise<Reply>;
  /** Resolves with every reply but keepalives, up to a terminal one or a decline. */
  done: Promise<Reply[]>;
}

function send(requestId: string, head: Record<string, string>, subject = 'sy.req.otherwise'): Sent {
  const inbox = createInbox();
  const sub = caller.subscribe(inbox);
  const h = natsHeaders();
  h.set(Header.RequestId, requestId);
  for (const [k, v] of Object.entries(head)) h.set(k, v);
  caller.publish(subject, body, { reply: inbox, headers: h });
  let first: (r: Reply) => void = () => undefined;
  const firstReply = new Promise<Reply>((resolve) => (first = resolve));
  const done = (async () => {
    const replies: Reply[] = [];
    for await (const msg of sub) {
      const reply = ReplySchema.parse(msg.json());
      if (reply.kind === 'keepalive') continue;
      if (replies.length === 0) first(reply);
      replies.push(reply);
      if (reply.kind !== 'accepted' && (reply.kind !== 'event' || reply.event.type === 'end')) break;
    }
    sub.unsubscribe();
    return replies;
  })();
  return { first: firstReply, done };
}

/** Sends until `node` takes the request: its peer declines it, being named in `sy-avoid-nodes`. */
async function sendTo(node: string, requestId: string, head: Record<string, string> = {}): Promise<Sent> {
  const other = [...nodes.keys()].find((id) => id !== node)!;
  for (let i = 0; i < 50; i++) {
    const sent = send(`${requestId}-${i}`, { ...head, [Header.AvoidNodes]: other });
    const first = await sent.first;
    if (first.node === node && first.kind === 'accepted') return sent;
  }
  throw new Error(`${node} never took ${requestId}`);
}

beforeAll(async () => {
  nats = await startNatsServer();
  simulator = await startSimulator({ config, seed: 3, latency: { anthropic: { ttftMs: { median: 600, p95: 650 }, tokensPerSecond: { mean: 1000, sd: 0 } } } });
  const signers = ['h1', 'h2'].map((id) => ({ id, ...generateSigner() }));
  const routed: Config = { ...configForSimulator(config, simulator.endpoints()), routers: { ...config.routers, trustedKeys: Object.fromEntries(signers.map((s) => [s.id, [s.signer.publicKey]])) } };
  for (const { id, signer } of signers) {
    const nc = await connect({ servers: nats.url, name: id });
    connections.push(nc);
    nodes.set(id, startRouterNode({ connection: nc, config: routed, nodeId: id, deps: { secrets: simulatorSecretsFor(config, simulator.credentials) }, system: { environment: 'test' }, graceMs: 2_000, gossipIntervalMs: 60_000, signer }));
  }
  caller = await connect({ servers: nats.url });
  for (let waited = 0; ![...nodes.values()].every((n) => n.gossip.peers().length === 1); waited += 20) {
    if (waited > 10_000) throw new Error('the two router nodes did not learn each other');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}, 30_000);

afterAll(async () => {
  await Promise.all([...nodes.values()].map((n) => n.drain(500)));
  await Promise.all([...connections, caller].map((c) => c.close()));
  await simulator?.close();
  await nats?.stop();
});

describe('handing a request back', () => {
  it('a node whose part is full hands the request back while its peer has room, and calls no vendor for it; asked to keep it, it waits and serves', async () => {
    const h1 = nodes.get('h1')!;
    const holding = await sendTo('h1', 'holding');
    expect(h1.system.fleet.capacity.inFlight(DEPLOYMENT)).toBe(1);

    const second = await sendTo('h1', 'second');
    const replies = await second.done;
    expect(replies.map((r) => r.kind)).toEqual(['accepted', 'declined']);
    // It names the peer with room, so the caller can send it there whichever server it is on.
    expect(replies[1]).toMatchObject({ node: 'h1', reason: expect.stringContaining('send it again'), to: 'h2' });
    // A stream is handed back the same way, before its start.
    const streamed = await (await sendTo('h1', 'streamed', { [Header.Stream]: '1' })).done;
    expect(streamed.map((r) => r.kind)).toEqual(['accepted', 'declined']);
    expect(h1.counts()).toMatchObject({ handedBack: 2, failed: 0 });
    expect(simulator.simulation.stats.snapshot()[DEPLOYMENT]?.requests).toBe(1);

    // Handed back as often as allowed, it stays: it waits for the seat, and gets it.
    const kept = await sendTo('h1', 'kept', { [Header.Handbacks]: String(MAX_HANDBACKS) });
    const [held, keptReplies] = await Promise.all([holding.done, kept.done]);
    expect(held.at(-1)?.kind).toBe('result');
    expect(keptReplies.map((r) => r.kind)).toEqual(['accepted', 'result']);
    expect(h1.counts().handedBack).toBe(2);
    expect(nodes.get('h2')!.counts().taken).toBe(0);
  });

  it('a request sent to a node by name reaches that node alone, and handed back from there it names no peer', async () => {
    const h2 = nodes.get('h2')!;
    const holding = await sendTo('h2', 'filling');
    // Sent by name to the full node: not to the queue group, so h1 (with room) never sees it.
    const named = await send('named', {}, 'sy.req.otherwise.h2').done;
    expect(named.map((r) => [r.kind, r.node])).toEqual([
      ['accepted', 'h2'],
      ['declined', 'h2'],
    ]);
    // It has had its hop to a named peer: it goes back to the queue group, not on round the fleet.
    expect(named[1]).not.toHaveProperty('to');
    // The same request through the queue group is handed back naming the peer.
    const queued = await (await sendTo('h2', 'queued')).done;
    expect(queued[1]).toMatchObject({ kind: 'declined', to: 'h1' });
    expect(h2.counts().handedBack).toBe(2);
    expect((await holding.done).at(-1)?.kind).toBe('result');
    // Sent by name to the node with room, it is served there.
    const served = await send('served', {}, 'sy.req.otherwise.h1').done;
    expect(served.map((r) => [r.kind, r.node])).toEqual([
      ['accepted', 'h1'],
      ['result', 'h1'],
    ]);
  });
});
