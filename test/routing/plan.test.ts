import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RouteNode } from '../../src/config/index.js';
import { HEALTH_STATES, planRequest, type DeploymentView, type PlanContext } from '../../src/routing/index.js';
import { seededRandom } from '../../src/simulator/random.js';

const target = (vendorRegion: string): RouteNode => ({ type: 'Target', vendorRegion });

function view(model: string, vendorRegion: string, extra: Partial<DeploymentView> = {}): DeploymentView {
  return {
    id: `${model}@${vendorRegion}`,
    model,
    vendorRegion,
    vendor: 'anthropic',
    state: 'healthy',
    inFlight: 0,
    headroom: Infinity,
    ramp: 1,
    probeAvailable: false,
    badness: 0,
    ...extra,
  };
}

function context(views: DeploymentView[], routes: Record<string, RouteNode>, extra: Partial<PlanContext> = {}): PlanContext {
  return {
    views: new Map(views.map((v) => [v.id, v])),
    now: 1_000,
    random: seededRandom(1),
    excluded: new Set(),
    expectedOutputTokens: 100,
    routeOf: (m) => routes[m],
    fallbackOf: () => undefined,
    explorationRate: 0,
    ...extra,
  };
}

const ids = (plan: { deployment: string }[]) => plan.map((c) => c.deployment);

describe('Sequence', () => {
  it('keeps the written order, skipping open, drained and already-tried deployments', () => {
    const route: RouteNode = { type: 'Sequence', members: ['a', 'b', 'c', 'd'].map(target) };
    const views = [view('m', 'a', { state: 'open' }), view('m', 'b'), view('m', 'c', { state: 'drained' }), view('m', 'd')];
    expect(ids(planRequest('m', context(views, { m: route })))).toEqual(['m@b', 'm@d']);
    expect(ids(planRequest('m', context(views, { m: route }, { excluded: new Set(['m@b']) })))).toEqual(['m@d']);
  });

  it('lets a half-open deployment take only its probes, and puts a full one after those with room', () => {
    const route: RouteNode = { type: 'Sequence', members: ['a', 'b', 'c'].map(target) };
    const views = [view('m', 'a', { headroom: 0 }), view('m', 'b', { state: 'halfOpen', probeAvailable: true }), view('m', 'c', { state: 'halfOpen' })];
    expect(ids(planRequest('m', context(views, { m: route })))).toEqual(['m@b', 'm@a']);
  });
});

describe('LoadBalanced', () => {
  it('matches its weights within tolerance over 10,000 picks', () => {
    const route: RouteNode = {
      type: 'LoadBalanced',
      members: [
        { route: target('a'), weight: 90 },
        { route: target('b'), weight: 9 },
        { route: target('c'), weight: 1 },
      ],
    };
    const views = ['a', 'b', 'c'].map((r) => view('m', r));
    const ctx = context(views, { m: route }, { random: seededRandom(11) });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) {
      const first = planRequest('m', ctx)[0]!.deployment;
      counts[first] = (counts[first] ?? 0) + 1;
    }
    expect(counts['m@a']! / 10_000).toBeCloseTo(0.9, 1);
    expect(Math.abs(counts['m@b']! / 10_000 - 0.09)).toBeLessThan(0.015);
    expect(Math.abs(counts['m@c']! / 10_000 - 0.01)).toBeLessThan(0.005);
  });

  it('property: over 10,000 picks any weights are matched within 2 points', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 2, maxLength: 5 }), fc.integer(), (weights, seed) => {
        const regions = weights.map((_, i) => `r${i}`);
        const route: RouteNode = { type: 'LoadBalanced', members: regions.map((r, i) => ({ route: target(r), weight: weights[i]! })) };
        const ctx = context(regions.map((r) => view('m', r)), { m: route }, { random: seededRandom(seed) });
        const counts = new Map<string, number>();
        for (let i = 0; i < 10_000; i++) {
          const first = planRequest('m', ctx)[0]!.deployment;
          counts.set(first, (counts.get(first) ?? 0) + 1);
        }
        const total = weights.reduce((a, b) => a + b, 0);
        regions.forEach((r, i) => expect(Math.abs((counts.get(`m@${r}`) ?? 0) / 10_000 - weights[i]! / total)).toBeLessThan(0.02));
      }),
      { numRuns: 20 },
    );
  });

  it('keeps its weights however many requests are in flight, while each has room', () => {
    const route: RouteNode = { type: 'LoadBalanced', members: [{ route: target('a'), weight: 90 }, { route: target('b'), weight: 10 }] };
    const ctx = context([view('m', 'a', { inFlight: 18, headroom: 2 }), view('m', 'b', { inFlight: 2 })], { m: route }, { random: seededRandom(3) });
    let toA = 0;
    for (let i = 0; i < 10_000; i++) if (planRequest('m', ctx)[0]!.deployment === 'm@a') toA++;
    expect(Math.abs(toA / 10_000 - 0.9)).toBeLessThan(0.02);
  });

  it('sends nothing first to a member without room', () => {
    const route: RouteNode = { type: 'LoadBalanced', members: [{ route: target('a'), weight: 90 }, { route: target('b'), weight: 10 }] };
    const ctx = context([view('m', 'a', { inFlight: 20, headroom: 0 }), view('m', 'b')], { m: route }, { random: seededRandom(3) });
    const firsts = new Set(Array.from({ length: 200 }, () => planRequest('m', ctx)[0]!.deployment));
    expect([...firsts]).toEqual(['m@b']);
  });
});

describe('LatencyBased', () => {
  const route: RouteNode = { type: 'LatencyBased', members: ['fast', 'mid', 'slow'].map(target) };

  it('picks the deployment predicted fastest, then the others by predicted latency', () => {
    const views = [view('m', 'slow', { ttftMs: 900 }), view('m', 'fast', { ttftMs: 200 }), view('m', 'mid', { ttftMs: 400 })];
    expect(ids(planRequest('m', context(views, { m: route })))).toEqual(['m@fast', 'm@mid', 'm@slow']);
  });

  it('counts requests in flight: a busy fast deployment loses to an idle one', () => {
    const views = [view('m', 'fast', { ttftMs: 200, inFlight: 5 }), view('m', 'mid', { ttftMs: 400 }), view('m', 'slow', { ttftMs: 900 })];
    expect(planRequest('m', context(views, { m: route }))[0]?.deployment).toBe('m@mid');
  });

  it('fills the fastest to its capacity, then the next', () => {
    const views = [view('m', 'fast', { ttftMs: 200, headroom: 0 }), view('m', 'mid', { ttftMs: 400 }), view('m', 'slow', { ttftMs: 900 })];
    expect(ids(planRequest('m', context(views, { m: route })))).toEqual(['m@mid', 'm@slow', 'm@fast']);
  });

  it('weighs output throughput for long answers', () => {
    const views = [view('m', 'fast', { ttftMs: 200, tokensPerSecond: 10 }), view('m', 'mid', { ttftMs: 400, tokensPerSecond: 100 }), view('m', 'slow', { ttftMs: 900 })];
    expect(planRequest('m', context(views, { m: route }, { expectedOutputTokens: 500 }))[0]?.deployment).toBe('m@mid');
  });

  it('explores at the configured rate, and gives a recovering deployment only its ramp share', () => {
    const views = [view('m', 'fast', { ttftMs: 200 }), view('m', 'mid', { ttftMs: 400 }), view('m', 'slow', { ttftMs: 900 })];
    const explore = context(views, { m: route }, { explorationRate: 0.3, random: seededRandom(5) });
    let elsewhere = 0;
    for (let i = 0; i < 3000; i++) if (planRequest('m', explore)[0]?.deployment !== 'm@fast') elsewhere++;
    expect(elsewhere / 3000).toBeCloseTo(0.2, 1);

    const ramping = context([{ ...views[0]!, ramp: 0.25 }, views[1]!, views[2]!], { m: route }, { random: seededRandom(6) });
    let toFast = 0;
    for (let i = 0; i < 4000; i++) if (planRequest('m', ramping)[0]?.deployment === 'm@fast') toFast++;
    expect(toFast / 4000).toBeCloseTo(0.25, 1);
  });
});

describe('other models and panic', () => {
  const claude: RouteNode = { type: 'Sequence', members: [target('a'), target('b'), { type: 'Fallback', model: 'gpt' }] };
  const gpt: RouteNode = { type: 'Sequence', members: [target('o')] };
  const views = [view('claude', 'a'), view('claude', 'b'), view('gpt', 'o')];

  it('falls back to the other model only after its own deployments', () => {
    const plan = planRequest('claude', context(views, { claude, gpt }));
    expect(plan.map((c) => `${c.deployment}:${c.via}`)).toEqual(['claude@a:route', 'claude@b:route', 'gpt@o:fallback']);
  });

  it('puts a model-level fallback last, and never loops back', () => {
    const plan = planRequest('gpt', context(views, { claude, gpt }, { fallbackOf: (m) => (m === 'gpt' ? 'claude' : undefined) }));
    expect(ids(plan)).toEqual(['gpt@o', 'claude@a', 'claude@b']);
  });

  it('spills a share of traffic first, and otherwise only after its own deployments with room', () => {
    const spilling: RouteNode = { type: 'Sequence', members: [target('a'), { type: 'Spill', model: 'gpt', percent: 30 }] };
    const ctx = context(views, { claude: spilling, gpt }, { random: seededRandom(9) });
    let spilled = 0;
    for (let i = 0; i < 3000; i++) if (planRequest('claude', ctx)[0]?.model === 'gpt') spilled++;
    expect(spilled / 3000).toBeCloseTo(0.3, 1);
    const excess: RouteNode = { type: 'Sequence', members: [target('a'), { type: 'Spill', model: 'gpt' }] };
    const full = [view('claude', 'a', { headroom: 0 }), view('gpt', 'o')];
    expect(ids(planRequest('claude', context(full, { claude: excess, gpt })))).toEqual(['gpt@o', 'claude@a']);
  });

  it('in panic, when every own deployment is open, tries the least bad one last', () => {
    const open = [view('claude', 'a', { state: 'open', badness: 5 }), view('claude', 'b', { state: 'open', badness: 2 }), view('gpt', 'o')];
    const plan = planRequest('claude', context(open, { claude, gpt }));
    expect(plan.map((c) => `${c.deployment}:${c.via}`)).toEqual(['gpt@o:fallback', 'claude@b:panic']);
  });

  it('property: an open deployment is never first while another is available', () => {
    const states = fc.constantFrom(...HEALTH_STATES);
    fc.assert(
      fc.property(fc.array(fc.tuple(states, fc.boolean(), fc.nat(1000)), { minLength: 1, maxLength: 6 }), fc.integer(), (specs, seed) => {
        const regions = specs.map((_, i) => `r${i}`);
        const all = specs.map(([state, probe, ttft], i) => view('m', regions[i]!, { state, probeAvailable: probe, ttftMs: ttft }));
        for (const route of [
          { type: 'LatencyBased', members: regions.map(target) },
          { type: 'Sequence', members: regions.map(target) },
          { type: 'LoadBalanced', members: regions.map((r) => ({ route: target(r), weight: 1 })) },
        ] as RouteNode[]) {
          const first = planRequest('m', context(all, { m: route }, { random: seededRandom(seed), explorationRate: 0.2 }))[0];
          const available = all.some((v) => v.state === 'healthy' || v.state === 'degraded' || (v.state === 'halfOpen' && v.probeAvailable));
          const chosen = all.find((v) => v.id === first?.deployment);
          if (available) expect(chosen?.state === 'open' || chosen?.state === 'drained' || (chosen?.state === 'halfOpen' && !chosen.probeAvailable)).toBe(false);
          else expect(first?.via ?? 'panic').toBe('panic');
        }
      }),
      { numRuns: 300 },
    );
  });
});
