/**
 * simulator: wire-faithful simulated vendors for every protocol of the config's fleet, on loopback,
 * with deterministic answers, a latency model, quotas, faults on command (admin HTTP and NATS) and
 * test credentials. Imports src/domain, src/config, src/vendors (wire formats), src/transport.
 */
import type { Vendor } from '../domain/index.js';
import type { NatsAuth, NatsTls } from '../transport/index.js';
import { startAdmin } from './admin.js';
import { listenForChaos, type ChaosListener } from './chaos-nats.js';
import type { SimulationOptions } from './engine.js';
import type { ProtocolHandler } from './protocol.js';
import { anthropicProtocol } from './protocols/anthropic.js';
import { azureProtocol } from './protocols/azure.js';
import { bedrockProtocol } from './protocols/bedrock.js';
import { openaiProtocol } from './protocols/openai.js';
import { vertexProtocol } from './protocols/vertex.js';
import { startFleet, type SimulatedFleet } from './server.js';

export const PROTOCOLS: Record<Vendor, ProtocolHandler> = {
  anthropic: anthropicProtocol,
  openai: openaiProtocol,
  azure: azureProtocol,
  bedrock: bedrockProtocol,
  vertex: vertexProtocol,
};

export interface SimulatorOptions extends SimulationOptions {
  host?: string;
  /** 0: every port ephemeral; otherwise the admin API on this port and vendor-regions on the next ones. */
  port?: number;
  /** NATS servers to take `sy.chaos.*` faults from; none to skip. */
  nats?: string[];
  natsAuth?: NatsAuth;
  natsTls?: NatsTls | undefined;
}

export interface RunningSimulator extends SimulatedFleet {
  admin: string;
  chaos?: ChaosListener | undefined;
}

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const fleet = await startFleet({ ...options, host, port, handlers: PROTOCOLS });
  const admin = await startAdmin(fleet, { host, port });
  let chaos: ChaosListener | undefined;
  try {
    chaos = options.nats && options.nats.length > 0 ? await listenForChaos(fleet, { servers: options.nats, auth: options.natsAuth, tls: options.natsTls }) : undefined;
  } catch (error) {
    await Promise.all([fleet.close(), admin.close()]);
    throw error;
  }
  return {
    ...fleet,
    admin: admin.url,
    chaos,
    async close() {
      await chaos?.close();
      await Promise.all([fleet.close(), admin.close()]);
    },
  };
}

export { Simulation } from './engine.js';
export type { Refusal, SimCall, SimStep, SimulationOptions } from './engine.js';
export { FaultSchema, FAULT_KINDS } from './faults.js';
export type { Fault, FaultInput, FaultSpecInput } from './faults.js';
export { LatencyProfileSchema } from './latency.js';
export { SIMULATOR_API_KEY, SIMULATOR_AWS } from './credentials.js';
export type { SimulatorCredentials, ServiceAccountKey } from './credentials.js';
export { fullAnswerTokens, answerFor } from './answer.js';
export { configForSimulator, simulatorSecretsFor } from './fleet-config.js';
export { fetchSimulatorTarget, type SimulatorTarget } from './target.js';
