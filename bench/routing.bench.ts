/**
 * How well `LatencyBased` routes on a simulated day whose vendor latencies drift: mean and p99
 * end-to-end latency against an oracle that always picks the truly fastest deployment with room,
 * round-robin, and a mean-of-the-last-10 policy, all over the same seeded arrivals and latency
 * draws. Virtual time, so a day of traffic takes seconds; see bench/routing/ for the model.
 * Target (from the issue): mean within 5% of the oracle and ahead of both baselines.
 */
import { DAY_MS, FLEET, MAX_TOKENS, MEAN_TOKENS, MIN_TOKENS, SEED, TARGET_LOAD, arrivalRatePerMs, trueExpectedMs, workload } from './routing/fleet.js';
import { lastTenMean, latencyBased, oracle, roundRobin } from './routing/policies.js';
import { simulate, summarise, type Policy } from './routing/simulate.js';

export interface Row {
  policy: string;
  requests: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  vsOracleMeanPct: number;
}

/** Which deployment is truly fastest hour by hour, as runs ("1–11h swingB"), so the report shows the ranking moves. */
function fastestByHour(): string {
  const runs: { from: number; to: number; name: string }[] = [];
  for (let hour = 0; hour < 24; hour++) {
    const ranked = FLEET.map((spec) => ({ name: spec.name, ms: trueExpectedMs(spec, MEAN_TOKENS, hour * 3_600_000) })).sort((a, b) => a.ms - b.ms);
    const name = ranked[0]?.name ?? '?';
    const last = runs.at(-1);
    if (last?.name === name) last.to = hour;
    else runs.push({ from: hour, to: hour, name });
  }
  return runs.map((r) => `${r.from === r.to ? r.from : `${r.from}–${r.to}`}h ${r.name}`).join(', ');
}

export function run(): Promise<Row[]> {
  const started = performance.now();
  const rate = arrivalRatePerMs(FLEET);
  const work = workload(SEED, rate);
  console.log(`seed ${SEED}; ${work.arrivals.length} requests over ${DAY_MS / 3_600_000} h at ${(rate * 1000).toFixed(2)}/s (target load ${TARGET_LOAD * 100}%); output ${MIN_TOKENS}–${MAX_TOKENS} tokens, mean ${MEAN_TOKENS}`);
  for (const d of FLEET) {
    const p = d.profile;
    console.log(`  ${d.name} (${d.vendorRegion}): capacity ${d.capacity}, TTFT median ${p.ttftMs.median} / p95 ${p.ttftMs.p95} ms, ${p.tokensPerSecond.mean}±${p.tokensPerSecond.sd} tok/s, drift ±${Math.round((p.drift?.amplitude ?? 0) * 100)}% phase ${p.drift?.phase ?? 0}`);
  }
  console.log(`  fastest: ${fastestByHour()}`);

  const policies: Policy[] = [oracle(FLEET), latencyBased(FLEET, SEED), roundRobin(FLEET), lastTenMean(FLEET)];
  const results = policies.map((policy) => {
    const t0 = performance.now();
    const outcome = simulate(policy, FLEET, work, SEED);
    const summary = summarise(outcome.latencies);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`  ${policy.name}: ${seconds.toFixed(1)} s; ${outcome.queuedRequests} requests queued, ${outcome.saturated} arrived with every slot taken`);
    return { policy: policy.name, requests: outcome.latencies.length, ...summary };
  });
  const oracleMean = results[0]?.meanMs ?? NaN;
  console.log(`  total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return Promise.resolve(results.map((r) => ({ ...r, vsOracleMeanPct: (r.meanMs / oracleMean - 1) * 100 })));
}
