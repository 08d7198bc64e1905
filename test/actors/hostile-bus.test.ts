/**
 * Two router nodes on a real nats-server, attacked by an application allowed to publish requests:
 * replies aimed at admin subjects, at another caller's inbox and at random subjects, and guessed
 * cancels. Run twice: with no auth at all, and under the permissions of docs/deployment.md, where
 * the attacker is the batch job, the victim the flagship, and each node signs its gossip with its
 * own NATS NKey. Victims stream slowly (drip) so every attack lands while they are in flight.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { nkeys, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterNode, type RouterNode } from '../../actors/node.js';
import { createClient, type SwitchyardClient } from '../../src/client/index.js';
import type { CanonicalRequest } from '../../src/domain/index.js';
import { configForSimulator, FaultSchema, fullAnswerTokens, simulatorSecretsFor, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { connectNats, signerFromSeed } from '../../src/transport/index.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { seedConfig } from '../helpers/simulator.js';

const FIXTURE = new URL('../fixtures/nats/switchyard-permissions.conf', import.meta.url);
const ROLES = ['ROUTER_1', 'ROUTER_2', 'CONVERSATION_SERVING', 'BATCH', 'OPERATOR', 'SIMULATOR'] as const;
type Role = (typeof ROLES)[number];

const ask = (i: number): CanonicalRequest => ({ model: 'claude-sonnet-4', maxTokens: 400, messages: [{ role: 'user', content: [{ type: 'text', text: `victim question ${i}` }] }] });

interface Setup {
  name: string;
  /** Server config text, and a seed per role when it uses the permissions. */
  server(): Promise<{ configText?: string; seeds?: Record<Role, string> }>;
}

const SETUPS: Setup[] = [
  { name: 'without auth', server: () => Promise.resolve({}) },
  {
    name: 'under the permissions of docs/deployment.md',
    async server() {
      const pairs = ROLES.map((role) => [role, nkeys.createUser()] as const);
      const keys = pairs.map(([role, kp]) => `${role}_NKEY = "${kp.getPublicKey()}"`).join('\n');
      const seeds = Object.fromEntries(pairs.map(([role, kp]) => [role, new TextDecoder().decode(kp.getSeed())])) as Record<Role, string>;
      return { configText: `${keys}\n${await readFile(FIXTURE, 'utf8')}`, seeds };
    },
  },
];

describe.each(SETUPS)('a hostile bus, $name', (setup) => {
  let nats: NatsServerHandle;
  let simulator: RunningSimulator;
  let seeds: Record<Role, string> | undefined;
  const nodes: RouterNode[] = [];
  const connections: NatsConnection[] = [];
  let victim: SwitchyardClient;
  let attacker: NatsConnection;
  const useCase = 'conversation_serving';

  const connectAs = async (role: Role, name: string): Promise<NatsConnection> => {
    const nc = await connectNats({ servers: [nats.url], name, ...(seeds ? { auth: { nkeySeed: seeds[role] } } : {}) });
    connections.push(nc);
    return nc;
  };
  const expected = (request: CanonicalRequest) => fullAnswerTokens(request, simulator.simulation.seed).join('');
  const refused = (kind: string) => nodes.reduce((sum, n) => sum + (n.counts().refused[kind] ?? 0), 0);

  /** Victim streams in flight, with the inbox each replies to as the attacker sees it on `_INBOX.>`. */
  async function victims(count: number, prefix: string) {
    const inboxes = new Map<string, string>();
    const spy = attacker.subscribe('_INBOX.>', {
      callback: (_e, msg) => {
        try {
          const { id } = msg.json<{ id?: string }>();
          if (id?.startsWith(prefix) && !inboxes.has(id)) inboxes.set(id, msg.subject);
        } catch {
          // Not a router reply.
        }
      },
    });
    await attacker.flush();
    const streams = Array.from({ length: count }, (_, i) =>
      (async () => {
        let text = '';
        for await (const event of victim.stream(ask(i), { useCase, requestId: `${prefix}-${i}` })) if (event.type === 'delta' && event.delta.type === 'text') text += event.delta.text;
        if (text !== expected(ask(i))) console.log(`victim ${i}: got ${JSON.stringify(text)}, expected ${JSON.stringify(expected(ask(i)))}`);
        return text === expected(ask(i));
      })(),
    );
    for (let waited = 0; inboxes.size < count; waited += 10) {
      if (waited > 10_000) throw new Error(`saw ${inboxes.size} of ${count} victim inboxes`);
      await sleep(10);
    }
    spy.unsubscribe();
    return { inboxes, done: Promise.all(streams) };
  }

  beforeAll(async () => {
    const server = await setup.server();
    seeds = server.seeds;
    nats = await startNatsServer(server.configText ? { configText: server.configText } : {});
    const config = await seedConfig();
    simulator = await startSimulator({ config, latencyScale: 0, seed: 5 });
    // Slow streams: a token every 40 ms, about 1.5 s for each answer, so attacks land mid-stream.
    for (const vendorRegion of Object.keys(config.vendorRegions)) simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion, kind: 'drip', intervalMs: 40 }));
    const signers = (['ROUTER_1', 'ROUTER_2'] as const).map((role) => signerFromSeed(seeds?.[role] ?? new TextDecoder().decode(nkeys.createUser().getSeed())));
    const trustedKeys = { 'router-1': [signers[0]!.publicKey], 'router-2': [signers[1]!.publicKey] };
    const routed = { ...configForSimulator(config, simulator.endpoints()), routers: { ...config.routers, trustedKeys } };
    for (const [i, role] of (['ROUTER_1', 'ROUTER_2'] as const).entries()) {
      nodes.push(
        startRouterNode({
          connection: await connectAs(role, `router-${i + 1}`),
          config: routed,
          nodeId: `router-${i + 1}`,
          deps: { secrets: simulatorSecretsFor(config, simulator.credentials) },
          system: { environment: 'us_prod' },
          graceMs: 2_000,
          gossipIntervalMs: 200,
          signer: signers[i],
        }),
      );
    }
    victim = await createClient({ connection: await connectAs('CONVERSATION_SERVING', 'victim') }, { idleTimeoutMs: 5_000 });
    attacker = await connectAs('BATCH', 'attacker');
    // Both nodes trust each other's signed gossip before the attacks start.
    for (let waited = 0; !nodes.every((n) => n.gossip.peers().length === 1); waited += 20) {
      if (waited > 10_000) throw new Error('the two nodes did not learn each other');
      await sleep(20);
    }
  }, 60_000);

  afterAll(async () => {
    await victim?.close();
    await Promise.all(nodes.map((n) => n.drain(100)));
    await Promise.all(connections.map((c) => c.close()));
    await simulator?.close();
    await nats?.stop();
  });

  it('answers no reply subject but an inbox: no node drains, no victim stream is touched, each refusal is counted', async () => {
    const { inboxes, done } = await victims(5, 'spoof');
    const before = refused('reply_subject');
    // The request subject itself too: an answer there would be a loop through every node.
    const elsewhere = ['sy.admin.drain.router-1', 'sy.admin.drain.router-2', 'sy.state.anthropic.global', 'sy.events.usage', 'sy.admin.state', 'sy.req.otherwise', 'random.subject', '_INBOX', '_INBOX.*'];
    let spoofs = 0;
    for (let round = 0; round < 4; round++) {
      for (const reply of elsewhere) {
        attacker.publish('sy.req.otherwise', 'not json', { reply });
        attacker.publish('sy.req.otherwise', JSON.stringify(ask(99)), { reply });
        spoofs += 2;
      }
      // Another caller's inbox is an inbox: the nodes answer there, and the victim ignores what names another request.
      for (const inbox of inboxes.values()) {
        attacker.publish('sy.req.otherwise', 'not json', { reply: inbox });
        attacker.publish('sy.req.otherwise', JSON.stringify(ask(98)), { reply: inbox });
      }
    }
    await attacker.flush();
    expect(await done).toEqual([true, true, true, true, true]);
    await expect.poll(() => refused('reply_subject') - before).toBe(spoofs);
    expect(nodes.map((n) => n.state())).toEqual(['serving', 'serving']);
    console.log(`reply spoofing (${setup.name}): ${spoofs} requests with non-inbox reply subjects refused, 5 of 5 victim streams whole, both nodes serving`);
  });

  it('refuses a drain without the explicit command, even on an inbox', async () => {
    const reply = await attacker.request('sy.admin.drain.router-1', 'not json', { timeout: 2_000 }).then(
      (msg) => msg.json<{ error?: string }>(),
      (error: unknown) => ({ refusedByNats: error instanceof Error }),
    );
    // Under the permissions the batch job may not publish there at all; without them the node says no.
    expect(reply).toEqual(seeds ? { refusedByNats: true } : { nodeId: 'router-1', error: 'body: expected {"command":"drain"}' });
    expect(nodes[0]?.state()).toBe('serving');
  });

  it('cancels nothing on 1,000 guessed cancellations, even when the request ids leak', async () => {
    const { inboxes, done } = await victims(10, 'cancel');
    const before = refused('cancel_wrong_token') + refused('cancel_malformed');
    const ids = [...inboxes.keys()];
    for (let i = 0; i < 1_000; i++) {
      // Half guess ids; half know a victim's id (leaked from a log) but not its caller token.
      const id = i % 2 === 0 ? `guess-${i}-${Math.random().toString(36).slice(2)}` : (ids[i % ids.length] ?? 'none');
      attacker.publish(`sy.cancel.${id}`, i % 4 === 1 ? '' : JSON.stringify({ token: randomBytes(18).toString('base64url') }));
    }
    await attacker.flush();
    expect(await done).toEqual(Array(10).fill(true));
    // Only the node holding a request judges its cancels: each leaked-id cancel is refused once.
    expect(refused('cancel_wrong_token') + refused('cancel_malformed') - before).toBe(500);
    console.log(`guessed cancellations (${setup.name}): 1,000 sent, 0 of 10 victim streams cancelled, 500 aimed at real ids refused`);
  });
});
