/**
 * The health of one vendor-region or one deployment: healthy, degraded, open (no traffic),
 * halfOpen (a few probes) and drained (by an operator). Pure: it learns time from the events it is
 * sent and waits only through xstate delays, so tests drive it with a simulated clock.
 *
 * Breakers open fast (a run of consecutive faults, or a fault rate over a short window with a
 * minimum volume, counted with the peers' numbers) and close carefully (a backoff that grows with
 * each opening, with jitter; a few probes; then a slow start). Capacity signals (429) never open
 * it: they only hold traffic back until the vendor's retry-after.
 *
 * A trusted peer's verdict counts as evidence too: a peer that opened on strong evidence (a run
 * of consecutive faults, or a fault that will not heal by itself) opens this breaker at once
 * (`peer.opened`), and a peer whose probes succeeded closes it into the slow start
 * (`peer.recovered`), so nodes at a low request rate need not each spend requests to learn either.
 */
import { assign, setup } from 'xstate';
import { emptyEwma, observeAverage, observeEwma, pushSamples } from './estimators.js';
import { DEFAULT_HEALTH_POLICY, FAULT_PENALTY_MS, MAX_FAULT_PENALTY_MS, type HealthContext, type HealthEvent, type HealthInput, type OpenReason, type SuccessSample } from './health-types.js';
import { countOutcomes, emptyWindow, recordOutcome } from './outcome-window.js';

export * from './health-types.js';

/** The record after some successes: the window, the latency estimates, and the run of faults they end. */
function withSuccesses(context: HealthContext, samples: readonly SuccessSample[]): Partial<HealthContext> {
  let { now, outcomes, ttft, ttftSamples, tokensPerSecond } = context;
  const ttfts: number[] = [];
  for (const sample of samples) {
    now = Math.max(now, sample.at);
    outcomes = recordOutcome(outcomes, sample.at, false);
    if (sample.ttftMs !== undefined) {
      ttft = observeEwma(ttft, sample.ttftMs, sample.at);
      ttfts.push(sample.ttftMs);
    }
    if (sample.tokensPerSecond !== undefined) tokensPerSecond = observeAverage(tokensPerSecond, sample.tokensPerSecond);
  }
  if (ttfts.length > 0) ttftSamples = pushSamples(ttftSamples, ttfts);
  return { now, consecutiveFaults: 0, outcomes, ttft, ttftSamples, tokensPerSecond };
}

/** The next value of a tiny LCG and a uniform draw in [0, 1) from it: jitter without Math.random. */
function nextRandom(seed: number): { seed: number; value: number } {
  const next = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return { seed: next, value: next / 4294967296 };
}

/** Fault share over the window, fleet-wide; undefined below the minimum volume. */
export function faultRate(context: HealthContext, minVolume = context.policy.minVolume): number | undefined {
  const local = countOutcomes(context.outcomes, context.now, context.policy.windowMs);
  const peerRequests = Math.max(0, context.peers.requests - context.peerBaseline.requests);
  const peerFaults = Math.max(0, context.peers.faults - context.peerBaseline.faults);
  const requests = local.requests + peerRequests;
  if (requests < minVolume) return undefined;
  return (local.faults + peerFaults) / requests;
}

function isFault(event: HealthEvent): boolean {
  return event.type === 'outcome.failure' && (event.failureClass === 'fault' || event.failureClass === 'quota_exhausted');
}

function isPersistent(event: HealthEvent): boolean {
  if (event.type === 'peer.opened') return event.persistent;
  return event.type === 'outcome.failure' && (event.persistent === true || event.failureClass === 'quota_exhausted');
}

function openReason(context: HealthContext, event: HealthEvent): OpenReason {
  if (event.type === 'admin.open') return 'admin';
  if (event.type === 'peer.opened') return 'peer';
  if (isPersistent(event)) return 'persistent';
  return context.consecutiveFaults >= context.policy.consecutiveFaults ? 'consecutive' : 'rate';
}

export const healthMachine = setup({
  types: {
    context: {} as HealthContext,
    events: {} as HealthEvent,
    input: {} as HealthInput,
  },
  actions: {
    record: assign(({ context, event }) => {
      if (event.type !== 'outcome.success' && event.type !== 'outcome.failure') return {};
      if (event.type === 'outcome.success') return withSuccesses(context, [event]);
      const base = { now: Math.max(context.now, event.at) };
      // Neither the caller's mistakes nor our own configuration say anything about the vendor.
      if (event.failureClass === 'caller' || event.failureClass === 'config') return base;
      if (event.failureClass === 'capacity') {
        // A capacity signal holds traffic back until the vendor's retry-after; it is not a fault.
        const until = event.at + (event.retryAfterMs ?? 1000);
        return { ...base, outcomes: recordOutcome(context.outcomes, event.at, false), throttledUntil: Math.max(context.throttledUntil ?? 0, until) };
      }
      return {
        ...base,
        consecutiveFaults: context.consecutiveFaults + 1,
        outcomes: recordOutcome(context.outcomes, event.at, true),
        lastFault: { code: event.code, at: event.at },
        // A fault counts as a very slow answer, so latency routing moves away before the breaker opens.
        ttft: observeEwma(context.ttft, Math.min(MAX_FAULT_PENALTY_MS, Math.max(2 * (context.ttft.value ?? 0), FAULT_PENALTY_MS)), event.at),
      };
    }),
    recordSuccesses: assign(({ context, event }) => (event.type === 'outcome.successes' ? withSuccesses(context, event.samples) : {})),
    tick: assign(({ context, event }) => ('at' in event ? { now: Math.max(context.now, event.at) } : {})),
    open: assign(({ context, event }) => {
      const persistent = isPersistent(event);
      const openings = context.breaker.openings + 1;
      const { seed, value } = nextRandom(context.breaker.seed);
      const backoff = Math.min(context.policy.baseOpenMs * 2 ** (openings - 1), context.policy.maxOpenMs);
      const jittered = backoff * (1 + context.policy.jitter * (2 * value - 1));
      const requested = event.type === 'admin.open' ? event.durationMs : undefined;
      return {
        breaker: {
          openings,
          seed,
          persistent,
          openReason: openReason(context, event),
          openMs: requested ?? (persistent ? context.policy.persistentOpenMs : Math.round(jittered)),
          openedAt: context.now,
        },
        consecutiveFaults: 0,
        // The window keeps the faults that opened it: peers read them from our digests.
        rampStartedAt: undefined,
      };
    }),
    startProbing: assign(({ context }) => ({ probesLeft: context.policy.probes, probesSucceeded: 0 })),
    takeProbe: assign(({ context }) => ({ probesLeft: Math.max(0, context.probesLeft - 1) })),
    returnProbe: assign(({ context }) => ({ probesLeft: Math.min(context.policy.probes, context.probesLeft + 1) })),
    countProbeSuccess: assign(({ context }) => ({ probesSucceeded: context.probesSucceeded + 1 })),
    // A recovered deployment starts a clean window: the faults that opened it are history.
    startRamp: assign(({ context }) => ({ rampStartedAt: context.now, breaker: { ...context.breaker, openings: 0, persistent: false }, probesLeft: 0, outcomes: emptyWindow(context.policy.windowMs), peerBaseline: { ...context.peers } })),
    endRamp: assign({ rampStartedAt: undefined }),
    probeFailed: assign(({ context }) => (context.breaker.openReason === 'persistent' ? {} : { breaker: { ...context.breaker, openReason: 'consecutive' as const } })),
    setPeers: assign(({ context, event }) => {
      if (event.type !== 'peer.counts') return {};
      // As the old evidence ages out of the peers' windows the baseline follows it down, so new faults count again.
      const baseline = { requests: Math.min(context.peerBaseline.requests, event.requests), faults: Math.min(context.peerBaseline.faults, event.faults) };
      return { peers: { requests: event.requests, faults: event.faults }, peerBaseline: baseline };
    }),
  },
  guards: {
    isFault: ({ event }) => isFault(event),
    isPersistentFault: ({ event }) => isFault(event) && isPersistent(event),
    shouldOpen: ({ context }) => {
      if (context.consecutiveFaults >= context.policy.consecutiveFaults) return true;
      const rate = faultRate(context);
      return rate !== undefined && rate >= context.policy.openRate;
    },
    shouldDegrade: ({ context }) => {
      const rate = faultRate(context, Math.ceil(context.policy.minVolume / 4));
      return rate !== undefined && rate >= context.policy.degradeRate;
    },
    recovered: ({ context, event }) => {
      const now = 'at' in event ? Math.max(context.now, event.at) : context.now;
      const ramped = context.rampStartedAt === undefined || now - context.rampStartedAt >= context.policy.rampMs;
      const rate = faultRate(context, Math.ceil(context.policy.minVolume / 4));
      return ramped && (rate === undefined || rate < context.policy.degradeRate);
    },
    lastProbeNeeded: ({ context }) => context.probesSucceeded + 1 >= context.policy.probes,
    // An operator's open stands until the operator or its period ends it.
    notAdminOpen: ({ context }) => context.breaker.openReason !== 'admin',
  },
  delays: {
    openPeriod: ({ context }) => context.breaker.openMs,
  },
}).createMachine({
  id: 'health',
  context: ({ input }) => ({
    id: input.id,
    policy: { ...DEFAULT_HEALTH_POLICY, ...input.policy },
    consecutiveFaults: 0,
    outcomes: emptyWindow({ ...DEFAULT_HEALTH_POLICY, ...input.policy }.windowMs),
    peers: { requests: 0, faults: 0 },
    peerBaseline: { requests: 0, faults: 0 },
    breaker: { openings: 0, openMs: 0, openedAt: undefined, persistent: false, openReason: undefined, seed: input.seed ?? 1 },
    probesLeft: 0,
    probesSucceeded: 0,
    rampStartedAt: undefined,
    ttft: emptyEwma(),
    ttftSamples: [],
    tokensPerSecond: undefined,
    throttledUntil: undefined,
    now: input.now ?? 0,
    lastFault: undefined,
  }),
  initial: 'healthy',
  on: {
    'peer.counts': { actions: 'setPeers' },
    'admin.drain': { target: '.drained' },
    'admin.open': { target: '.open', actions: ['tick', 'open'] },
  },
  states: {
    healthy: {
      on: {
        // The fleet's evidence counts as much as ours: a peer's faults can open this breaker.
        'peer.counts': { actions: 'setPeers', target: 'judging' },
        'peer.opened': { target: 'open', actions: ['tick', 'open'] },
        'outcome.crawl': { target: 'degraded', actions: 'tick' },
        'outcome.success': { actions: 'record' },
        'outcome.successes': { actions: 'recordSuccesses' },
        'outcome.failure': [
          { guard: 'isPersistentFault', target: 'open', actions: ['record', 'open'] },
          { actions: 'record', target: 'judging' },
        ],
      },
    },
    /** Decides, right after a fault, whether it tipped the balance. */
    judging: {
      always: [
        { guard: 'shouldOpen', target: 'open', actions: 'open' },
        { guard: 'shouldDegrade', target: 'degraded' },
        { target: 'healthy' },
      ],
    },
    degraded: {
      on: {
        'peer.counts': { actions: 'setPeers', target: 'judgingDegraded' },
        'peer.opened': { target: 'open', actions: ['tick', 'open'] },
        'outcome.success': [{ guard: 'recovered', actions: ['record', 'endRamp'], target: 'healthy' }, { actions: 'record' }],
        'outcome.failure': [
          { guard: 'isPersistentFault', target: 'open', actions: ['record', 'open'] },
          { actions: 'record', target: 'judgingDegraded' },
        ],
      },
    },
    judgingDegraded: {
      always: [{ guard: 'shouldOpen', target: 'open', actions: 'open' }, { target: 'degraded' }],
    },
    open: {
      after: { openPeriod: { target: 'halfOpen' } },
      on: {
        // Answers to requests sent before it opened still teach latency; they do not change the state.
        'outcome.success': { actions: 'record' },
        'outcome.failure': { actions: 'tick' },
        'peer.recovered': { guard: 'notAdminOpen', target: 'degraded', actions: ['tick', 'startRamp'] },
        // A peer opened it anew (the prober's probe failed while our backoff ran): wait out the
        // new backoff with it, or this node half-opens on its own clock and waits there for a
        // verdict the prober already gave.
        'peer.opened': { guard: 'notAdminOpen', target: 'open', reenter: true, actions: ['tick', 'open'] },
      },
    },
    halfOpen: {
      entry: 'startProbing',
      on: {
        'probe.taken': { actions: ['tick', 'takeProbe'] },
        'probe.returned': { actions: ['tick', 'returnProbe'] },
        'outcome.success': [
          { guard: 'lastProbeNeeded', target: 'degraded', actions: ['record', 'countProbeSuccess', 'startRamp'] },
          { actions: ['record', 'countProbeSuccess'] },
        ],
        'outcome.failure': [
          // A failed probe is strong evidence: the peers waiting on this prober open again too.
          { guard: 'isFault', target: 'open', actions: ['record', 'open', 'probeFailed'] },
          // A probe that was rate limited or refused as the caller's fault says nothing; give its slot back.
          { actions: ['record', 'returnProbe'] },
        ],
        'peer.recovered': { target: 'degraded', actions: ['tick', 'startRamp'] },
        // The prober's probe failed: wait out a new backoff with it.
        'peer.opened': { target: 'open', actions: ['tick', 'open'] },
      },
    },
    drained: {
      on: {
        'admin.undrain': { target: 'degraded', actions: ['tick', 'startRamp'] },
        'outcome.success': { actions: 'record' },
      },
    },
  },
});
