/**
 * Who is calling and as what: the key decides the tenant, the use cases it may speak as and the
 * priority it may claim. The body is never trusted for any of them; a header may choose among
 * what the key allows (`x-switchyard-use-case`, `x-switchyard-priority`), and asks for nothing more.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { effectivePriority, poolFor } from '../capacity/index.js';
import type { Config } from '../config/index.js';
import { PRIORITIES, type Priority } from '../domain/index.js';
import { presentedKey, type ApiKeys, type KeyHolder } from './keys.js';
import { problem, type Problem } from './problems.js';

export const USE_CASE_HEADER = 'x-switchyard-use-case';
export const PRIORITY_HEADER = 'x-switchyard-priority';
export const DEADLINE_HEADER = 'x-switchyard-deadline-ms';

export interface Caller {
  key: KeyHolder;
  useCase: string;
  tenant: string | undefined;
  priority: Priority;
  deadlineMs: number | undefined;
}

export function authenticate(keys: ApiKeys, headers: IncomingHttpHeaders): KeyHolder | Problem {
  const presented = presentedKey(headers);
  if (presented === undefined) {
    return problem('authentication', 'missing_api_key', 'no API key: send it as `Authorization: Bearer <key>` or `x-api-key: <key>`; `switchyard gateway key` makes one');
  }
  return keys.find(presented) ?? problem('authentication', 'invalid_api_key', 'this API key is not one the gateway knows; check the key, or ask the operator for one');
}

/** What the key lets this request be, or why not. `model` is the logical model the body asks for. */
export function resolveCaller(config: Config, key: KeyHolder, headers: IncomingHttpHeaders, model: string): Caller | Problem {
  const asked = single(headers[USE_CASE_HEADER]);
  const useCase = asked ?? key.useCases[0] ?? 'otherwise';
  if (!key.useCases.includes(useCase)) {
    return problem('permission', 'use_case_not_allowed', `the key "${key.name}" may not speak as use case "${useCase}"; it may use ${key.useCases.join(', ')}`, { param: USE_CASE_HEADER });
  }
  if (!Object.hasOwn(config.models, model)) {
    return problem('not_found', 'model_not_found', `no model "${model}"; this gateway serves ${allowedModels(config, key).join(', ')} (GET /v1/models lists them)`, { param: 'model' });
  }
  if (key.models && !key.models.includes(model)) {
    return problem('permission', 'model_not_allowed', `the key "${key.name}" may not use model "${model}"; it may use ${key.models.join(', ')}`, { param: 'model' });
  }
  const priority = single(headers[PRIORITY_HEADER]);
  if (priority !== undefined && !(PRIORITIES as readonly string[]).includes(priority)) {
    return problem('invalid_request', 'invalid_request', `${PRIORITY_HEADER} must be one of ${PRIORITIES.join(', ')}`, { param: PRIORITY_HEADER });
  }
  const deadline = single(headers[DEADLINE_HEADER]);
  const deadlineMs = deadline === undefined ? undefined : Number(deadline);
  if (deadlineMs !== undefined && !(Number.isInteger(deadlineMs) && deadlineMs > 0 && deadlineMs <= 3_600_000)) {
    return problem('invalid_request', 'invalid_request', `${DEADLINE_HEADER} must be a whole number of milliseconds from 1 to 3600000`, { param: DEADLINE_HEADER });
  }
  // Within the key's ceiling; the router still caps it by the tenant's.
  const ceiling = { name: key.name, maxShare: 100, maxPriority: key.maxPriority };
  return { key, useCase, tenant: key.tenant, priority: effectivePriority(priority as Priority | undefined, poolFor(config, useCase), ceiling), deadlineMs };
}

export function allowedModels(config: Config, key: KeyHolder): string[] {
  return key.models ?? Object.keys(config.models);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function isProblem(value: object): value is Problem {
  return 'status' in value && 'kind' in value;
}
