/** A small fleet for the capacity tests: one model on two vendor-regions, a critical and a batch pool, three tenants. */
import { CapacityLedger, type AdmissionRequest, type Reservation } from '../../src/capacity/index.js';
import { ConfigSchema, type Config, type ConfigInput } from '../../src/config/index.js';

export const A = 'claude-sonnet-4@anthropic';
export const B = 'claude-sonnet-4@bedrock/us-east-1';

export function capacityConfig(over: Partial<ConfigInput> = {}, quota = { rpm: 1000, tpm: 1_000_000, concurrency: 20 }): Config {
  return ConfigSchema.parse({
    vendorRegions: {
      anthropic: { credentials: { apiKey: { env: 'ANTHROPIC_API_KEY' } }, deployments: { 'claude-sonnet-4': { vendorModelId: 'claude-sonnet-4-20250514', quota } } },
      'bedrock/us-east-1': {
        credentials: { accessKeyId: { env: 'AWS_ACCESS_KEY_ID' }, secretAccessKey: { env: 'AWS_SECRET_ACCESS_KEY' } },
        deployments: { 'claude-sonnet-4': { vendorModelId: 'anthropic.claude-sonnet-4-20250514-v1:0', quota } },
      },
    },
    models: { 'claude-sonnet-4': {} },
    routes: { CLAUDE_SONNET_4: { test: { Sequence: ['anthropic', 'bedrock/us-east-1'] } } },
    pools: {
      flagship: { priority: 'critical', useCases: ['conversation_serving'], shares: { '*': 50 } },
      bulk: { priority: 'batch', useCases: ['otherwise'], shares: { '*': 50 } },
    },
    tenants: { acme: { maxShare: 50, maxPriority: 'critical' }, flood: { maxShare: 25, maxPriority: 'standard' }, worker: { maxShare: 100, maxPriority: 'batch' } },
    ...over,
  });
}

/** Admits until refused; returns the reservations. */
export function fill(ledger: CapacityLedger, request: AdmissionRequest, most = 1_000): Reservation[] {
  const held: Reservation[] = [];
  for (let i = 0; i < most; i++) {
    const result = ledger.admit(request);
    if (!result.ok) break;
    held.push(result.reservation);
  }
  return held;
}

/**
 * N ledgers (nodes n0, n1, ...) that hear each other only at publish time, as over gossip; with
 * `pools`, the flagship and bulk pools split the deployment 50/50.
 */
export function fleetOf(n: number, now: () => number, pools = false) {
  const config = capacityConfig(pools ? {} : { pools: {} }, { rpm: 100_000, tpm: 100_000_000, concurrency: 40 });
  const ledgers = Array.from({ length: n }, () => new CapacityLedger(config, { now }));
  const gossip = () => {
    const reports = ledgers.map((l, j) => ({ ...l.report(A)!, node: `n${j}` }));
    ledgers.forEach((l, i) => l.applyPeers(new Map([[A, reports.filter((_, j) => j !== i)]])));
  };
  return { ledgers, gossip };
}

/** A hand-driven clock. */
export const clock = () => {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};
