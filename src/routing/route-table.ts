/**
 * Which route serves a request: model × environment × use case, with `otherwise` as the catch-all.
 * Pure functions over the resolved config; the routing strategies themselves come with the router.
 */
import { OTHERWISE } from '../domain/index.js';
import { routeOtherModels, type Config, type RouteNode } from '../config/index.js';

export function resolveRoute(config: Config, model: string, environment: string, useCase: string): RouteNode | undefined {
  const routes = config.routes[model]?.[environment];
  return routes?.[useCase] ?? routes?.[OTHERWISE];
}

/** Every environment any model has routes in, in the order first written. */
export function environmentsOf(config: Config): string[] {
  return [...new Set(Object.values(config.routes).flatMap((environments) => Object.keys(environments)))];
}

/** The use cases written for a model in an environment (`otherwise` when one route serves them all). */
export function writtenUseCases(config: Config, model: string, environment: string): string[] {
  return Object.keys(config.routes[model]?.[environment] ?? {});
}

/** The models a request falls back to when all of this route's own deployments fail: its Fallback elements, then the model's own. */
export function crossModelFallbacks(config: Config, model: string, route: RouteNode): string[] {
  const modelLevel = config.models[model]?.fallback;
  const inRoute = routeOtherModels(route).fallbacks;
  return [...new Set(modelLevel ? [...inRoute, modelLevel] : inRoute)];
}
