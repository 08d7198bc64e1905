/**
 * Walking a parsed route: every node with the path it was written at, so checks can name the
 * field, and the plain questions asked of a route (which vendor-regions, which other models).
 */
import type { RouteNode } from './route-schema.js';

export type PathSegment = string | number;

/** Visits every node depth-first with its path below the route's root, in the form it was written. */
export function walkRoute(node: RouteNode, visit: (node: RouteNode, path: PathSegment[]) => void, path: PathSegment[] = []): void {
  visit(node, path);
  switch (node.type) {
    case 'LatencyBased':
    case 'Sequence':
      node.members.forEach((member, i) => walkRoute(member, visit, [...path, node.type, i]));
      return;
    case 'LoadBalanced':
      node.members.forEach((member, i) => walkRoute(member.route, visit, [...path, node.type, i]));
      return;
    case 'Target':
    case 'Fallback':
    case 'Spill':
      return;
  }
}

/** The vendor-regions a route sends this model's traffic to, in the order written, without repeats. */
export function routeVendorRegions(node: RouteNode): string[] {
  const found = new Set<string>();
  walkRoute(node, (n) => {
    if (n.type === 'Target') found.add(n.vendorRegion);
  });
  return [...found];
}

/** Models this route can hand a request to: its `Fallback` and `Spill` elements. */
export function routeOtherModels(node: RouteNode): { fallbacks: string[]; spills: string[] } {
  const fallbacks: string[] = [];
  const spills: string[] = [];
  walkRoute(node, (n) => {
    if (n.type === 'Fallback') fallbacks.push(n.model);
    if (n.type === 'Spill') spills.push(n.model);
  });
  return { fallbacks, spills };
}
