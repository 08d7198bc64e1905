/**
 * Checks the references across sections of a structurally valid config: every route names declared
 * vendor-regions that serve its model, Fallback and Spill name models with a route for the same
 * environment and use case, no Fallback cycle, pools name real deployments and never reserve more
 * than all of one, peak loads name real routes. Each problem names the path of the offending field.
 */
import {
  GLOBAL_VENDORS,
  OTHERWISE,
  VENDORS,
  modelRouteKey,
  deploymentId,
  parseDeploymentId,
  parseVendorRegionId,
  type Vendor,
} from '../domain/index.js';
import { checkGatewayReferences } from './gateway.js';
import { describeModels, modelForRouteKey } from './model-keys.js';
import { isRouteNode, type EnvironmentRoutes, type RouteNode } from './route-schema.js';
import { walkRoute, type PathSegment } from './route-tree.js';
import type { ParsedConfigInput } from './schema.js';

export interface ReferenceIssue {
  path: PathSegment[];
  message: string;
}

type Credential = keyof ParsedConfigInput['vendorRegions'][string]['credentials'];

/** What each vendor cannot work without. */
export const REQUIRED: Record<Vendor, { credentials: Credential[]; fields: ('baseUrl' | 'apiVersion' | 'projectId')[] }> = {
  anthropic: { credentials: ['apiKey'], fields: [] },
  openai: { credentials: ['apiKey'], fields: [] },
  azure: { credentials: ['apiKey'], fields: ['baseUrl', 'apiVersion'] },
  bedrock: { credentials: ['accessKeyId', 'secretAccessKey'], fields: [] },
  vertex: { credentials: ['serviceAccount'], fields: ['projectId'] },
};

const list = (items: Iterable<string>): string => [...items].join(', ') || '(none)';

export function checkReferences(config: ParsedConfigInput): ReferenceIssue[] {
  const issues: ReferenceIssue[] = [];
  const report = (path: PathSegment[], message: string) => issues.push({ path, message });
  const models = Object.keys(config.models);

  checkModelNames(config, report);
  checkVendorRegions(config, models, report);
  const table = checkRoutes(config, models, report);
  checkModelFallbacks(config, table, report);
  checkFallbackCycles(config, table, report);
  checkPools(config, report);
  checkPeakLoads(config, table, report);
  checkOverrides(config, models, report);
  const known = { tenants: Object.keys(config.tenants), models, defaultTenant: config.capacity.defaultTenant };
  for (const issue of checkGatewayReferences(config.gateway, known)) report(issue.path, issue.message);
  return issues;
}

type Report = (path: PathSegment[], message: string) => void;

/** Routes by logical model name, with where each environment's routes were written. */
interface RouteTable {
  environments(model: string): string[];
  /** The route a request of this use case gets, falling back to `otherwise`. */
  resolve(model: string, environment: string, useCase: string): RouteNode | undefined;
  useCases(model: string, environment: string): string[];
}

function checkModelNames(config: ParsedConfigInput, report: Report): void {
  const byKey = new Map<string, string>();
  for (const model of Object.keys(config.models)) {
    const key = modelRouteKey(model);
    const other = byKey.get(key);
    if (other) report(['models', model], `"${model}" and "${other}" are both written ${key} in a route table; rename one`);
    byKey.set(key, model);
  }
}

function checkVendorRegions(config: ParsedConfigInput, models: string[], report: Report): void {
  for (const [id, vendorRegion] of Object.entries(config.vendorRegions)) {
    const parts = parseVendorRegionId(id);
    if (!parts) {
      report(
        ['vendorRegions', id],
        `"${id}" is not a vendor-region id; expected <vendor> or <vendor>/<region> with vendor one of ${VENDORS.join(', ')} (e.g. bedrock/us-east-1)`,
      );
      continue;
    }
    if (!id.includes('/') && !GLOBAL_VENDORS.includes(parts.vendor)) {
      report(['vendorRegions', id], `${parts.vendor} has one endpoint per region; write it as ${parts.vendor}/<region>, e.g. ${parts.vendor}/us-east-1`);
    }
    const required = REQUIRED[parts.vendor];
    for (const credential of required.credentials) {
      if (!vendorRegion.credentials[credential]) {
        report(['vendorRegions', id, 'credentials', credential], `${parts.vendor} needs ${credential}: { env: VARIABLE_NAME } or { file: PATH }`);
      }
    }
    for (const field of required.fields) {
      if (vendorRegion[field] === undefined) report(['vendorRegions', id, field], `${parts.vendor} needs ${field}`);
    }
    for (const model of Object.keys(vendorRegion.deployments)) {
      if (!models.includes(model)) {
        report(['vendorRegions', id, 'deployments', model], `unknown model "${model}"; declare it under models (known: ${list(models)})`);
      }
    }
  }
}

function checkRoutes(config: ParsedConfigInput, models: string[], report: Report): RouteTable {
  const byModel = new Map<string, Record<string, EnvironmentRoutes>>();
  for (const [key, environments] of Object.entries(config.routes)) {
    const model = modelForRouteKey(models, key);
    if (!model) {
      report(['routes', key], `unknown model; known: ${describeModels(models)}`);
      continue;
    }
    if (byModel.has(model)) report(['routes', key], `a second route table for ${model}; merge them`);
    byModel.set(model, environments);
  }
  const table: RouteTable = {
    environments: (model) => Object.keys(byModel.get(model) ?? {}),
    resolve(model, environment, useCase) {
      const routes = byModel.get(model)?.[environment];
      if (!routes) return undefined;
      if (isRouteNode(routes)) return routes;
      return routes[useCase] ?? routes[OTHERWISE];
    },
    useCases(model, environment) {
      const routes = byModel.get(model)?.[environment];
      if (!routes) return [];
      return isRouteNode(routes) ? [OTHERWISE] : Object.keys(routes);
    },
  };

  for (const [key, environments] of Object.entries(config.routes)) {
    const model = modelForRouteKey(models, key);
    if (!model) continue;
    for (const [environment, routes] of Object.entries(environments)) {
      const entries: [string, RouteNode, PathSegment[]][] = isRouteNode(routes)
        ? [[OTHERWISE, routes, ['routes', key, environment]]]
        : Object.entries(routes).map(([useCase, node]) => [useCase, node, ['routes', key, environment, useCase]]);
      for (const [useCase, node, base] of entries) {
        checkRoute({ config, models, table, model, environment, useCase, node, base, report });
      }
    }
  }
  return table;
}

interface RouteContext {
  config: ParsedConfigInput;
  models: string[];
  table: RouteTable;
  model: string;
  environment: string;
  useCase: string;
  node: RouteNode;
  base: PathSegment[];
  report: Report;
}

function checkRoute({ config, models, table, model, environment, useCase, node, base, report }: RouteContext): void {
  const known = Object.keys(config.vendorRegions);
  walkRoute(node, (n, at) => {
    const path = [...base, ...at];
    switch (n.type) {
      case 'Target': {
        const vendorRegion = config.vendorRegions[n.vendorRegion];
        if (!vendorRegion) {
          report(path, `unknown vendor-region "${n.vendorRegion}"; known: ${list(known)}`);
        } else if (!vendorRegion.deployments[model]) {
          report(path, `vendor-region "${n.vendorRegion}" has no deployment of ${model}; it serves: ${list(Object.keys(vendorRegion.deployments))}`);
        }
        return;
      }
      case 'Fallback':
      case 'Spill': {
        if (!models.includes(n.model)) {
          report(path, `${n.type} names unknown model "${n.model}"; known: ${list(models)}`);
        } else if (n.model === model) {
          report(path, `${n.type} names ${model} itself; name another model`);
        } else if (!table.resolve(n.model, environment, useCase)) {
          report(path, `${n.type} to ${n.model}, but ${n.model} has no route for environment ${environment} and use case ${useCase}; add one`);
        }
        return;
      }
      case 'LatencyBased':
      case 'Sequence':
      case 'LoadBalanced': {
        const seen = new Set<string>();
        const members = n.type === 'LoadBalanced' ? n.members.map((m) => m.route) : n.members;
        members.forEach((member, i) => {
          if (member.type !== 'Target') return;
          if (seen.has(member.vendorRegion)) report([...path, n.type, i], `vendor-region "${member.vendorRegion}" is listed twice in this ${n.type}`);
          seen.add(member.vendorRegion);
        });
        return;
      }
    }
  });
}

function checkModelFallbacks(config: ParsedConfigInput, table: RouteTable, report: Report): void {
  const models = Object.keys(config.models);
  for (const [model, spec] of Object.entries(config.models)) {
    const fallback = spec.fallback;
    if (fallback === undefined) continue;
    const path = ['models', model, 'fallback'];
    if (!models.includes(fallback)) {
      report(path, `unknown model "${fallback}"; known: ${list(models)}`);
      continue;
    }
    if (fallback === model) {
      report(path, `${model} cannot fall back to itself; name another model`);
      continue;
    }
    for (const environment of table.environments(model)) {
      for (const useCase of table.useCases(model, environment)) {
        if (!table.resolve(fallback, environment, useCase)) {
          report(path, `${fallback} has no route for environment ${environment} and use case ${useCase}, where ${model} has one; add one`);
        }
      }
    }
  }
}

/** A Fallback chain that comes back to where it started would bounce a request forever. */
function checkFallbackCycles(config: ParsedConfigInput, table: RouteTable, report: Report): void {
  const models = Object.keys(config.models);
  const environments = new Set(models.flatMap((m) => table.environments(m)));
  const reported = new Set<string>();
  for (const environment of environments) {
    const useCases = new Set(models.flatMap((m) => table.useCases(m, environment)));
    for (const useCase of useCases) {
      const next = (model: string): string[] => {
        const node = table.resolve(model, environment, useCase);
        const fallbacks: string[] = [];
        if (node) walkRoute(node, (n) => void (n.type === 'Fallback' && fallbacks.push(n.model)));
        const modelFallback = config.models[model]?.fallback;
        if (node && modelFallback) fallbacks.push(modelFallback);
        return fallbacks.filter((f) => f !== model && models.includes(f));
      };
      for (const start of models) {
        const cycle = findCycle(start, next);
        if (!cycle) continue;
        const key = [...cycle].sort().join('|');
        if (reported.has(key)) continue;
        reported.add(key);
        report(['routes'], `Fallback cycle in environment ${environment}, use case ${useCase}: ${[...cycle, cycle[0]].join(' → ')}; break it`);
      }
    }
  }
}

function findCycle(start: string, next: (model: string) => string[]): string[] | undefined {
  const stack: string[] = [];
  const visit = (model: string): string[] | undefined => {
    const at = stack.indexOf(model);
    if (at >= 0) return stack.slice(at);
    stack.push(model);
    for (const n of next(model)) {
      const cycle = visit(n);
      if (cycle) return cycle;
    }
    stack.pop();
    return undefined;
  };
  const cycle = visit(start);
  return cycle && cycle[0] === start ? cycle : undefined;
}

function checkPools(config: ParsedConfigInput, report: Report): void {
  const deployments = Object.entries(config.vendorRegions).flatMap(([id, vr]) => Object.keys(vr.deployments).map((m) => deploymentId(m, id)));
  const reserved = new Map<string, number>();
  const servedBy = new Map<string, string>();
  for (const [name, pool] of Object.entries(config.pools)) {
    for (const key of Object.keys(pool.shares)) {
      if (key !== '*' && !(deployments as string[]).includes(key)) {
        const parsed = parseDeploymentId(key);
        const why = parsed ? 'no such deployment' : 'not a deployment id (model@vendor-region)';
        report(['pools', name, 'shares', key], `${why}; known: ${list(deployments)}`);
      }
    }
    for (const deployment of deployments) {
      const share = pool.shares[deployment] ?? pool.shares['*'] ?? 0;
      reserved.set(deployment, (reserved.get(deployment) ?? 0) + share);
    }
    pool.useCases.forEach((useCase, i) => {
      const other = servedBy.get(useCase);
      if (other) report(['pools', name, 'useCases', i], `use case ${useCase} is already served by pool ${other}; a use case draws from one pool`);
      servedBy.set(useCase, name);
    });
  }
  for (const [deployment, total] of reserved) {
    if (total > 100) report(['pools'], `pools reserve ${total}% of ${deployment}; the shares of one deployment add up to at most 100`);
  }
}

function checkPeakLoads(config: ParsedConfigInput, table: RouteTable, report: Report): void {
  const models = Object.keys(config.models);
  config.peakLoad.forEach((peak, i) => {
    const path = ['peakLoad', i];
    if (!models.includes(peak.model)) {
      report([...path, 'model'], `unknown model "${peak.model}"; known: ${list(models)}`);
      return;
    }
    const environments = peak.environment ? [peak.environment] : table.environments(peak.model);
    if (peak.environment && !table.environments(peak.model).includes(peak.environment)) {
      report([...path, 'environment'], `${peak.model} has no routes in environment ${peak.environment}; it has: ${list(table.environments(peak.model))}`);
      return;
    }
    for (const environment of environments) {
      if (!table.resolve(peak.model, environment, peak.useCase)) {
        report([...path, 'useCase'], `${peak.model} has no route for use case ${peak.useCase} in environment ${environment} (and no "otherwise")`);
      }
    }
  });
}

function checkOverrides(config: ParsedConfigInput, models: string[], report: Report): void {
  config.redundancy.overrides.forEach((override, i) => {
    if (override.model !== undefined && !models.includes(override.model)) {
      report(['redundancy', 'overrides', i, 'model'], `unknown model "${override.model}"; known: ${list(models)}`);
    }
  });
}
