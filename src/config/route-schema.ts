/**
 * The route language of docs/design.md §2 as data. Route files are written in the short form
 * operators sketch on whiteboards (`{ LatencyBased: [...] }`, a vendor-region id for a target);
 * parsing turns every node into a tagged object, so code downstream switches on `type`.
 */
import { z } from 'zod';

/** A logical model name: letters, digits and `.-_:` (`gpt-4.1`, `claude-sonnet-4`). */
export const ModelNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, { error: 'expected a model name of letters, digits and . - _ :' })
  .describe('A logical model name callers ask for, e.g. claude-sonnet-4');

/** Use case names become NATS subject tokens (`sy.req.<usecase>`), so no dots or wildcards. */
export const UseCaseNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, { error: 'expected a use case name of lowercase letters, digits, _ and -' })
  .describe('A use case, e.g. conversation_serving; "otherwise" is the catch-all');

export const EnvironmentNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, { error: 'expected an environment name of lowercase letters, digits, _ and -' })
  .describe('An environment a router node runs in, e.g. us_prod');

/** A vendor-region id as written in a route: `anthropic`, `bedrock/us-east-1`. */
const TargetInput = z.string().min(1).describe('A vendor-region id, e.g. bedrock/us-east-1 or anthropic');

export type RouteNode =
  | { type: 'Target'; vendorRegion: string }
  | { type: 'LatencyBased'; members: RouteNode[] }
  | { type: 'Sequence'; members: RouteNode[] }
  | { type: 'LoadBalanced'; members: WeightedRoute[] }
  | { type: 'Fallback'; model: string }
  | { type: 'Spill'; model: string; percent?: number | undefined };

export interface WeightedRoute {
  route: RouteNode;
  weight: number;
}

export type RouteNodeInput =
  | string
  | { LatencyBased: RouteNodeInput[] }
  | { Sequence: RouteNodeInput[] }
  | { LoadBalanced: (RouteNodeInput | [RouteNodeInput, number])[] }
  | { Fallback: string }
  | { Spill: { model: string; percent?: number | undefined } };

const Weight = z.number().positive({ error: 'expected a weight greater than 0' });

/** The route language; recursive, so its TypeScript types are spelled out above and checked against it. */
export const RouteNodeSchema: z.ZodType<RouteNode, RouteNodeInput> = z.lazy(() =>
  z.union(
    [
      TargetInput.transform((vendorRegion): RouteNode => ({ type: 'Target', vendorRegion })),
      z
        .strictObject({ LatencyBased: z.array(RouteNodeSchema).min(1) })
        .describe('Route to the deployment predicted fastest for this request')
        .transform((n): RouteNode => ({ type: 'LatencyBased', members: n.LatencyBased })),
      z
        .strictObject({ Sequence: z.array(RouteNodeSchema).min(1) })
        .describe('Try members in order, skipping open ones')
        .transform((n): RouteNode => ({ type: 'Sequence', members: n.Sequence })),
      z
        .strictObject({
          LoadBalanced: z
            .array(z.union([z.tuple([RouteNodeSchema, Weight]), RouteNodeSchema]))
            .min(1)
            .describe('Members, each alone (weight 1) or as [member, weight]'),
        })
        .describe('Spread traffic over members by weight')
        .transform(
          (n): RouteNode => ({
            type: 'LoadBalanced',
            members: n.LoadBalanced.map((m) => (Array.isArray(m) ? { route: m[0], weight: m[1] } : { route: m, weight: 1 })),
          }),
        ),
      z
        .strictObject({ Fallback: ModelNameSchema })
        .describe("When this model's own deployments all fail, use that model's route for the same environment and use case")
        .transform((n): RouteNode => ({ type: 'Fallback', model: n.Fallback })),
      z
        .strictObject({
          Spill: z.strictObject({
            model: ModelNameSchema,
            percent: z
              .number()
              .gt(0)
              .max(100)
              .optional()
              .describe('Share of traffic always sent to that model; without it only the excess spills'),
          }),
        })
        .describe('Send part of the traffic, or the excess when this model lacks capacity, to another model')
        .transform((n): RouteNode => ({ type: 'Spill', model: n.Spill.model, percent: n.Spill.percent })),
    ],
    {
      error:
        'expected a vendor-region id (e.g. "bedrock/us-east-1") or one of { LatencyBased: [...] }, { LoadBalanced: [...] }, { Sequence: [...] }, { Fallback: model }, { Spill: { model, percent } }',
    },
  ),
);

/** An environment maps to one route for all use cases, or to use cases with `otherwise` as the catch-all. */
export const EnvironmentRoutesSchema = z.union(
  [
    RouteNodeSchema,
    z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, {
          error: 'neither a strategy (LatencyBased, LoadBalanced, Sequence, Fallback, Spill) nor a use case name (lowercase letters, digits, _ and -)',
        }),
        RouteNodeSchema,
      )
      .describe('Use case → route; "otherwise" is the catch-all'),
  ],
  { error: 'expected a route, or a map of use case → route (with "otherwise" as the catch-all)' },
);

export type EnvironmentRoutes = z.output<typeof EnvironmentRoutesSchema>;

/** Tells a single route from a use-case map; a use case named `type` maps to an object, never a string. */
export function isRouteNode(value: EnvironmentRoutes): value is RouteNode {
  return typeof (value as { type?: unknown }).type === 'string';
}

/** Model key (`CLAUDE_SONNET_4` or `claude-sonnet-4`) → environment → routes. */
export const RoutesSchema = z
  .record(z.string().min(1), z.record(EnvironmentNameSchema, EnvironmentRoutesSchema))
  .describe('Route table: model → environment → (use case →) route');
