/**
 * Turns zod's issues into path-naming config issues: `routes.CLAUDE_SONNET_4.us_prod.conversation_serving[1]:
 * unknown vendor-region ...`. Strategy keys before an index are left out of the path, so a member
 * is named by its place in the strategy as operators count it.
 */
import type { z } from 'zod';
import type { ConfigIssue } from '../domain/index.js';
import { STRATEGIES } from '../domain/index.js';
import type { PathSegment } from './route-tree.js';

const PLAIN_KEY = /^[A-Za-z0-9_$/@*-]+$/;

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  path.forEach((segment, i) => {
    const next = path[i + 1];
    if (typeof segment === 'string' && (STRATEGIES as readonly string[]).includes(segment) && typeof next === 'number') return;
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      out += PLAIN_KEY.test(key) ? (out ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
    }
  });
  return out;
}

type ZodIssue = z.core.$ZodIssue;

/** The branch of a failed union the input was most likely meant for: the one whose problems lie deepest. */
function bestUnionBranch(issue: ZodIssue & { code: 'invalid_union' }): ZodIssue[] | undefined {
  let best: ZodIssue[] | undefined;
  let bestDepth = 0;
  for (const branch of issue.errors) {
    const depth = Math.min(...branch.map((i) => i.path.length));
    if (depth > bestDepth) {
      best = branch;
      bestDepth = depth;
    }
  }
  return best;
}

/** zod's own messages start like this; anything else was written for the field in the schema and wins. */
const ZOD_DEFAULT_MESSAGE = /^(Invalid|Too (small|big)|Unrecognized)/;

function describe(issue: ZodIssue): string {
  if (!ZOD_DEFAULT_MESSAGE.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}, got ${received(issue.input)}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; remove or rename ${issue.keys.length > 1 ? 'them' : 'it'}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(issue.input)}`;
    case 'too_small':
      return issue.origin === 'array' ? `expected at least ${String(issue.minimum)} entries` : `expected a value ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'array' ? `expected at most ${String(issue.maximum)} entries` : `expected a value ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'invalid_format':
      return issue.format === 'url' ? `expected a URL such as https://api.example.com, got ${JSON.stringify(issue.input)}` : issue.message;
    case 'custom':
    case 'invalid_element':
    case 'invalid_key':
    case 'invalid_union':
    case 'not_multiple_of':
      return issue.message;
  }
}

function received(input: unknown): string {
  if (input === undefined) return 'nothing (the field is required)';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  return typeof input === 'object' ? 'an object' : `${typeof input} ${JSON.stringify(input)}`;
}

export function fromZodIssues(issues: readonly ZodIssue[], prefix: readonly PathSegment[] = []): ConfigIssue[] {
  return issues.flatMap((issue): ConfigIssue[] => {
    const path = [...prefix, ...(issue.path as PathSegment[])];
    if (issue.code === 'invalid_union') {
      const branch = bestUnionBranch(issue);
      if (branch) return fromZodIssues(branch, path);
    }
    if (issue.code === 'invalid_key' && issue.origin === 'record') {
      const key = path.at(-1);
      return issue.issues.map((inner) => ({ path: formatPath(path), message: `${JSON.stringify(key)}: ${describe(inner)}` }));
    }
    return [{ path: formatPath(path), message: describe(issue) }];
  });
}
