/**
 * A Chat Completions body's first problem in OpenAI's own words: the message, the `param` it names
 * (`messages[0].content`, as OpenAI writes nested fields) and its code. The simulated OpenAI and
 * our gateway answer a bad body alike, so a caller sees the 400 the real API would give.
 */
import type { z } from 'zod';

export interface RequestIssue {
  message: string;
  param: string | null;
  code: string;
}

export function describeRequestIssue(issue: z.core.$ZodIssue | undefined, body: unknown): RequestIssue {
  if (issue === undefined) return { message: 'Invalid request body.', param: null, code: 'invalid_value' };
  const param = pathText(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const key = param === '' ? (issue.keys[0] ?? '') : `${param}.${issue.keys[0] ?? ''}`;
    return { message: `Unrecognized request argument supplied: ${issue.keys.join(', ')}`, param: key, code: 'unknown_parameter' };
  }
  if (issue.code === 'invalid_type' && valueAt(body, issue.path) === undefined) {
    return { message: `Missing required parameter: '${param}'.`, param, code: 'missing_required_parameter' };
  }
  return { message: `Invalid value for '${param || 'body'}': ${issue.message}`, param: param || null, code: 'invalid_value' };
}

/** The value at a zod issue's path, or undefined where the body has none. */
export function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/** `messages[0].content`, as OpenAI names nested fields. */
function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text === '' ? String(key) : `${text}.${String(key)}`), '');
}
