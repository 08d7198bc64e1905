/**
 * Plans where one request goes: an ordered list of candidate deployments, the first to try first
 * and the rest the failover order. Strategies nest; Spill and Fallback bring in other models; when
 * every deployment of the model is open, the least bad one is tried last rather than none (panic).
 */
import { deploymentId, type DeploymentId } from '../domain/index.js';
import type { RouteNode } from '../config/index.js';
import { predictedLatencyMs } from './latency.js';
import { hasCapacity, isAvailable, type DeploymentView, type ViewLookup } from './view.js';

export interface Candidate {
  deployment: DeploymentId;
  model: string;
  vendorRegion: string;
  /** Why it is on the list: the model's own route, a spill or fallback to another model, or panic. */
  via: 'route' | 'spill' | 'fallback' | 'panic';
}

export interface PlanContext {
  /** Asked only for the deployments the routes name. */
  views: ViewLookup;
  now: number;
  /** Seeded in tests, so every choice is reproducible. */
  random: () => number;
  /** Deployments this request already tried. */
  excluded: ReadonlySet<string>;
  expectedOutputTokens: number;
  /** The route another model has for this request's environment and use case. */
  routeOf(model: string): RouteNode | undefined;
  /** A model's model-level fallback (config `models.<m>.fallback`). */
  fallbackOf(model: string): string | undefined;
  /** Share of latency-based choices made at random, so a deployment that became fast is noticed. */
  explorationRate?: number;
}

type Kind = 'own' | 'spillFirst' | 'spill' | 'fallback';
interface Entry {
  candidate: Candidate;
  view: DeploymentView;
  kind: Kind;
}

const DEFAULT_EXPLORATION = 0.01;
/**
 * With this few members comparing every cost is cheap and strictly better than sampling two: with
 * four, two random ones miss the fastest half the time (bench/routing.bench.ts).
 */
const COMPARE_ALL_UP_TO = 8;

export function planRequest(model: string, ctx: PlanContext): Candidate[] {
  const route = ctx.routeOf(model);
  if (!route) return [];
  const planned = planModel(model, route, ctx, new Set([model]));
  // Every own deployment open: try the least bad one after any other model, rather than refuse.
  if (!planned.some((c) => c.model === model)) {
    const panic = leastBad(model, route, ctx, new Set(planned.map((c) => c.deployment)));
    if (panic) planned.push(panic);
  }
  return planned;
}

function planModel(model: string, route: RouteNode, ctx: PlanContext, visited: Set<string>): Candidate[] {
  const entries = order(model, route, ctx, visited);
  const modelFallback = ctx.fallbackOf(model);
  if (modelFallback && !visited.has(modelFallback)) entries.push(...fallbackEntries(modelFallback, ctx, visited, 'fallback'));
  const available = entries.filter((e) => !ctx.excluded.has(e.candidate.deployment) && isAvailable(e.view));
  const withCapacity = (e: Entry) => hasCapacity(e.view, ctx.now);
  const buckets: Entry[][] = [
    available.filter((e) => e.kind === 'spillFirst'),
    available.filter((e) => e.kind === 'own' && withCapacity(e)),
    available.filter((e) => e.kind === 'spill'),
    available.filter((e) => e.kind === 'own' && !withCapacity(e)),
    available.filter((e) => e.kind === 'fallback'),
  ];
  const seen = new Set<string>();
  const out: Candidate[] = [];
  for (const entry of buckets.flat()) {
    if (seen.has(entry.candidate.deployment)) continue;
    seen.add(entry.candidate.deployment);
    out.push(entry.candidate);
  }
  return out;
}

function fallbackEntries(model: string, ctx: PlanContext, visited: Set<string>, kind: Kind): Entry[] {
  const route = ctx.routeOf(model);
  if (!route) return [];
  const inner = planModel(model, route, ctx, new Set([...visited, model]));
  return inner.flatMap((candidate) => {
    const view = ctx.views.get(candidate.deployment);
    return view ? [{ candidate: { ...candidate, via: kind === 'fallback' ? 'fallback' : 'spill' }, view, kind }] : [];
  });
}

/** The entries of a route node in preference order; other models' entries are tagged so the caller places them. */
function order(model: string, node: RouteNode, ctx: PlanContext, visited: Set<string>): Entry[] {
  switch (node.type) {
    case 'Target': {
      const id = deploymentId(model, node.vendorRegion);
      const view = ctx.views.get(id);
      return view ? [{ candidate: { deployment: id, model, vendorRegion: node.vendorRegion, via: 'route' }, view, kind: 'own' }] : [];
    }
    case 'Sequence':
      return node.members.flatMap((m) => order(model, m, ctx, visited));
    case 'LoadBalanced':
      return loadBalanced(node.members.map((m) => ({ entries: order(model, m.route, ctx, visited), weight: m.weight })), ctx);
    case 'LatencyBased':
      return latencyBased(node.members.map((m) => order(model, m, ctx, visited)), ctx);
    case 'Fallback':
      return visited.has(node.model) ? [] : fallbackEntries(node.model, ctx, visited, 'fallback');
    case 'Spill': {
      if (visited.has(node.model)) return [];
      const first = node.percent !== undefined && ctx.random() * 100 < node.percent;
      return fallbackEntries(node.model, ctx, visited, first ? 'spillFirst' : 'spill');
    }
  }
}

/** The entry a member would send this request to: its first own, available one with room. */
function representative(entries: Entry[], ctx: PlanContext): Entry | undefined {
  return entries.find((e) => e.kind === 'own' && !ctx.excluded.has(e.candidate.deployment) && hasCapacity(e.view, ctx.now));
}

/**
 * Weighted choice of the first member among those with room (weights are also fixed percentages,
 * so they are not discounted by load: a 90/10 split stays 90/10 while both have headroom), each
 * weight scaled only by its ramp after recovery; the others follow, heaviest first.
 */
function loadBalanced(members: { entries: Entry[]; weight: number }[], ctx: PlanContext): Entry[] {
  const scored = members.map((m) => {
    const rep = representative(m.entries, ctx);
    const effective = rep ? m.weight * rep.view.ramp : 0;
    return Object.assign({}, m, { effective });
  });
  const total = scored.reduce((sum, m) => sum + m.effective, 0);
  let pick = -1;
  if (total > 0) {
    let r = ctx.random() * total;
    pick = scored.findIndex((m) => (r -= m.effective) < 0);
    if (pick < 0) pick = scored.length - 1;
  }
  const rest = scored.filter((_, i) => i !== pick).sort((a, b) => b.effective - a.effective);
  return [...(pick >= 0 ? [scored[pick]!] : []), ...rest].flatMap((m) => m.entries);
}

/**
 * The member predicted fastest for this request, among those with room (so the fastest fills up
 * to its capacity, then the next takes over); the rest follow by predicted latency. A small share
 * of choices explores at random, and a deployment still ramping up after recovery wins only its
 * ramp's share of the choices it would win.
 */
function latencyBased(members: Entry[][], ctx: PlanContext): Entry[] {
  const cost = (e: Entry | undefined) => (e ? predictedLatencyMs(e.view, ctx.expectedOutputTokens) : Infinity);
  const scored = members.map((entries) => {
    const rep = representative(entries, ctx);
    return { entries, rep, cost: cost(rep) };
  });
  const ready = scored.filter((m) => m.rep !== undefined);
  const rest = scored.filter((m) => m.rep === undefined);
  let first: (typeof scored)[number] | undefined;
  if (ready.length > 0) {
    if (ctx.random() < (ctx.explorationRate ?? DEFAULT_EXPLORATION)) {
      first = ready[Math.floor(ctx.random() * ready.length)];
    } else {
      const pool = ready.length <= COMPARE_ALL_UP_TO ? ready : sampleTwo(ready, ctx.random);
      const ranked = [...pool].sort((a, b) => a.cost - b.cost);
      first = ranked.find((m) => (m.rep?.view.ramp ?? 1) >= 1 || ctx.random() < (m.rep?.view.ramp ?? 1)) ?? ranked[0];
    }
  }
  const others = ready.filter((m) => m !== first).sort((a, b) => a.cost - b.cost);
  return [...(first ? [first] : []), ...others, ...rest].flatMap((m) => m.entries);
}

function sampleTwo<T>(items: T[], random: () => number): T[] {
  const a = Math.floor(random() * items.length);
  let b = Math.floor(random() * (items.length - 1));
  if (b >= a) b++;
  return [items[a]!, items[b]!];
}

/** Panic mode: the model's own deployment least likely to fail, even though open. Drained and unusable ones stay out. */
function leastBad(model: string, route: RouteNode, ctx: PlanContext, seen: Set<string>): Candidate | undefined {
  const own = order(model, route, ctx, new Set([model])).filter(
    (e) => e.kind === 'own' && e.view.state !== 'drained' && e.view.state !== 'unusable' && !ctx.excluded.has(e.candidate.deployment) && !seen.has(e.candidate.deployment),
  );
  const best = own.sort((a, b) => a.view.badness - b.view.badness)[0];
  return best ? { ...best.candidate, via: 'panic' } : undefined;
}
