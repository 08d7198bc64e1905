/**
 * The whole path the gateway tests drive: a real nats-server, the vendor simulator, one router
 * node routing to it, and the gateway, each on its own free port. The config is the example fleet
 * plus two models made for these tests (`tiny`, one request a minute, for a certain 429;
 * `gpt-4.1-mini`, which falls back to Claude) and two API keys.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startRouterNode, type RouterNode } from '../../actors/node.js';
import { parseConfig, readConfigData, type Config } from '../../src/config/index.js';
import { hashKey, startGateway, type RunningGateway } from '../../src/gateway/index.js';
import { configForSimulator, FaultSchema, simulatorSecretsFor, startSimulator, type FaultInput, type RunningSimulator } from '../../src/simulator/index.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const APP_KEY = 'sk-sy-test-app-key-0000000000000000000000000';
export const NARROW_KEY = 'sk-sy-test-narrow-key-000000000000000000000000';

export interface GatewayFixture {
  nats: NatsServerHandle;
  simulator: RunningSimulator;
  node: RouterNode;
  gateway: RunningGateway;
  config: Config;
  connections: NatsConnection[];
  fault(fault: FaultInput): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

export async function gatewayConfig(): Promise<Config> {
  const data = (await readConfigData(path.join(root, 'examples/seed.config.yaml'))) as Record<string, any>;
  data.vendorRegions.openai.deployments['gpt-4.1-mini'] = { vendorModelId: 'gpt-4.1-mini-2025-04-14', quota: { rpm: 5000, tpm: 2_000_000, concurrency: 200 } };
  data.vendorRegions['azure/eastus'].deployments['gpt-4.1-mini'] = { vendorModelId: 'gpt-4.1-mini', quota: { rpm: 1000, tpm: 1_000_000, concurrency: 100 } };
  data.vendorRegions.openai.deployments.tiny = { vendorModelId: 'gpt-4.1-nano-2025-04-14', quota: { rpm: 1, tpm: 100_000, concurrency: 5 } };
  data.models['gpt-4.1-mini'] = { family: 'gpt', fallback: 'claude-sonnet-4' };
  data.models.tiny = { family: 'gpt' };
  data.routes.GPT_4_1_MINI = { us_prod: { Sequence: ['openai', 'azure/eastus'] } };
  data.routes.TINY = { us_prod: { Sequence: ['openai'] } };
  data.capacity = { queueWaitMs: 0 };
  data.gateway = {
    apiKeys: {
      app: { sha256: hashKey(APP_KEY), tenant: 'acme-corp', useCases: ['otherwise', 'conversation_serving'], maxPriority: 'high' },
      narrow: { sha256: hashKey(NARROW_KEY), useCases: ['otherwise'], models: ['gpt-4.1'] },
    },
  };
  return parseConfig(data, 'gateway test config');
}

export async function startGatewayFixture(): Promise<GatewayFixture> {
  const nats = await startNatsServer();
  const config = await gatewayConfig();
  const simulator = await startSimulator({ config, latencyScale: 0, seed: 7 });
  const nodeConnection = await connect({ servers: nats.url });
  const gatewayConnection = await connect({ servers: nats.url });
  const node = startRouterNode({
    connection: nodeConnection,
    config: configForSimulator(config, simulator.endpoints()),
    nodeId: 'gw-test',
    deps: { secrets: simulatorSecretsFor(config, simulator.credentials) },
    system: { environment: 'us_prod' },
    graceMs: 1_000,
  });
  await nodeConnection.flush();
  const gateway = await startGateway({ connection: gatewayConnection, config });
  return {
    nats,
    simulator,
    node,
    gateway,
    config,
    connections: [nodeConnection, gatewayConnection],
    fault: (fault) => void simulator.simulation.faults.add(FaultSchema.parse(fault)),
    clearFaults: () => simulator.simulation.faults.clear(),
    async stop() {
      await gateway.close();
      await node.drain(200);
      await Promise.all([nodeConnection.close(), gatewayConnection.close()]);
      await simulator.close();
      await nats.stop();
    },
  };
}
