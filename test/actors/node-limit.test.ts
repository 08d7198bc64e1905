/** A router node's admission limit (`routers.maxInFlight`): beyond it, `overloaded` with a retry-after, never unbounded. */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterNode, type RouterNode } from '../../actors/node.js';
import { createClient, type SwitchyardClient } from '../../src/client/index.js';
import { configForSimulator, FaultSchema, simulatorSecretsFor, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { seedConfig } from '../helpers/simulator.js';

let nats: NatsServerHandle;
let simulator: RunningSimulator;
let nc: NatsConnection;
let node: RouterNode;
let client: SwitchyardClient;

const ask = (i: number) => ({ model: 'claude-sonnet-4', maxTokens: 20, messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: `held ${i}` }] }] });

beforeAll(async () => {
  nats = await startNatsServer();
  const config = await seedConfig();
  simulator = await startSimulator({ config, latencyScale: 0 });
  nc = await connect({ servers: nats.url });
  node = startRouterNode({
    connection: nc,
    config: { ...configForSimulator(config, simulator.endpoints()), routers: { ...config.routers, maxInFlight: 5 } },
    nodeId: 'limited',
    deps: { secrets: simulatorSecretsFor(config, simulator.credentials) },
    system: { environment: 'us_prod' },
    graceMs: 2_000,
  });
  client = await createClient({ servers: nats.url }, { idleTimeoutMs: 10_000 });
});

afterAll(async () => {
  await client.close();
  await node.drain(100);
  await nc.close();
  await simulator.close();
  await nats.stop();
});

describe('node admission limit', () => {
  it('holds at most maxInFlight requests and answers the rest overloaded with a retry-after', async () => {
    // Every answer takes about a second: twenty tokens, one each 50 ms.
    for (const vendorRegion of Object.keys(simulator.simulation.config.vendorRegions)) simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion, kind: 'drip', intervalMs: 50, durationMs: 60_000 }));
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        client.complete(ask(i), { useCase: 'conversation_serving' }).then(
          () => ({ ok: true as const }),
          (error: unknown) => ({ ok: false as const, error: error as { code: string; retryAfterMs?: number } }),
        ),
      ),
    );
    const refused = outcomes.flatMap((o) => (o.ok ? [] : [o.error]));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(5);
    expect(refused).toHaveLength(3);
    for (const error of refused) expect(error).toMatchObject({ code: 'overloaded', retryAfterMs: 1000 });
    expect(node.counts().refused.overloaded).toBeGreaterThanOrEqual(1);
    simulator.simulation.faults.clear();
    // With the work done, the node takes requests again.
    await expect(client.complete(ask(99), { useCase: 'conversation_serving' })).resolves.toMatchObject({ servedBy: { model: 'claude-sonnet-4' } });
  }, 30_000);
});
