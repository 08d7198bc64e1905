/**
 * Every NATS subject Switchyard uses is built and parsed here (docs/design.md §4), so a subject
 * token never comes from unchecked input: tokens may not hold `.`, `*`, `>` or whitespace.
 */
import { GLOBAL_REGION, parseVendorRegionId } from '../domain/index.js';

export const DEFAULT_PREFIX = 'sy';

const TOKEN = /^[A-Za-z0-9_-]+$/;

export function assertToken(kind: string, token: string): string {
  if (!TOKEN.test(token)) throw new Error(`invalid ${kind} "${token}" for a NATS subject: use letters, digits, _ and -`);
  return token;
}

/** `sy.chaos.bedrock.us-east-1`; a global vendor's region token is `global`. */
export function chaosSubject(vendorRegion: string, prefix = DEFAULT_PREFIX): string {
  const parts = parseVendorRegionId(vendorRegion);
  if (!parts) throw new Error(`not a vendor-region id: "${vendorRegion}"`);
  return `${prefix}.chaos.${assertToken('vendor', parts.vendor)}.${assertToken('region', parts.region)}`;
}

export function chaosWildcard(prefix = DEFAULT_PREFIX): string {
  return `${prefix}.chaos.>`;
}

/** The vendor-region a chaos subject names, or undefined when it is not one. */
export function vendorRegionOfChaosSubject(subject: string, prefix = DEFAULT_PREFIX): string | undefined {
  const tokens = subject.split('.');
  if (tokens.length !== 4 || `${tokens[0]}` !== prefix || tokens[1] !== 'chaos') return undefined;
  const [, , vendor, region] = tokens;
  const id = region === GLOBAL_REGION ? `${vendor}` : `${vendor}/${region}`;
  return parseVendorRegionId(id) ? id : undefined;
}

/** `sy.req.<usecase>`: where applications publish requests; router nodes listen in a queue group. */
export function requestSubject(useCase: string, prefix = DEFAULT_PREFIX): string {
  return `${prefix}.req.${assertToken('use case', useCase)}`;
}

/** The queue group's subscription: `sy.req.*`, one token, so a request addressed to one node is not in it. */
export function requestWildcard(prefix = DEFAULT_PREFIX): string {
  return `${prefix}.req.*`;
}

/**
 * `sy.req.<usecase>.<node>`: a request addressed to one router node, sent where a node that had
 * no room named a peer that has (a hand-back). The use case stays the second token, so the
 * permission to publish as a use case (`sy.req.<usecase>` and `sy.req.<usecase>.*`) is unchanged.
 */
export function directRequestSubject(useCase: string, nodeId: string, prefix = DEFAULT_PREFIX): string {
  return `${requestSubject(useCase, prefix)}.${assertToken('node id', nodeId)}`;
}

/** What one node subscribes to, outside the queue group, for the requests addressed to it. */
export function directRequestWildcard(nodeId: string, prefix = DEFAULT_PREFIX): string {
  return `${prefix}.req.*.${assertToken('node id', nodeId)}`;
}

const USE_CASE = /^[a-z0-9][a-z0-9_-]*$/;

/** The use case a request subject names, addressed to one node or not. */
export function useCaseOfRequestSubject(subject: string, prefix = DEFAULT_PREFIX): string | undefined {
  const head = `${prefix}.req.`;
  if (!subject.startsWith(head)) return undefined;
  const rest = subject.slice(head.length);
  const dot = rest.indexOf('.');
  const token = dot < 0 ? rest : rest.slice(0, dot);
  if (dot >= 0 && !TOKEN.test(rest.slice(dot + 1))) return undefined;
  return USE_CASE.test(token) ? token : undefined;
}

/** Router nodes share request subjects through this queue group, so each request reaches one node. */
export const ROUTER_QUEUE = 'sy-routers';

export function cancelSubject(requestId: string, prefix = DEFAULT_PREFIX): string {
  return `${prefix}.cancel.${assertToken('request id', requestId)}`;
}

/** Every node listens for every cancel: only the one holding the request, and only with its token, acts. */
export function cancelWildcard(prefix = DEFAULT_PREFIX): string {
  return `${prefix}.cancel.*`;
}

/** `sy.replay.<id>`: the caller asks for the replies it missed. */
export function replaySubject(requestId: string, prefix = DEFAULT_PREFIX): string {
  return `${prefix}.replay.${assertToken('request id', requestId)}`;
}

export function replayWildcard(prefix = DEFAULT_PREFIX): string {
  return `${prefix}.replay.*`;
}

/** The request id of a `sy.cancel.<id>` or `sy.replay.<id>` subject, or undefined. */
export function requestIdOfControlSubject(subject: string, prefix = DEFAULT_PREFIX): string | undefined {
  const tokens = subject.split('.');
  if (tokens.length !== 3 || tokens[0] !== prefix || (tokens[1] !== 'cancel' && tokens[1] !== 'replay')) return undefined;
  const id = tokens[2] ?? '';
  return TOKEN.test(id) && id.length <= 64 ? id : undefined;
}

/** `sy.state.<vendor>.<region>`: each node's digest of one vendor-region. */
export function stateSubject(vendorRegion: string, prefix = DEFAULT_PREFIX): string {
  const parts = parseVendorRegionId(vendorRegion);
  if (!parts) throw new Error(`not a vendor-region id: "${vendorRegion}"`);
  return `${prefix}.state.${assertToken('vendor', parts.vendor)}.${assertToken('region', parts.region)}`;
}

export function stateWildcard(prefix = DEFAULT_PREFIX): string {
  return `${prefix}.state.>`;
}

/** `sy.node.<id>`: a node's heartbeat. */
export function nodeSubject(nodeId: string, prefix = DEFAULT_PREFIX): string {
  return `${prefix}.node.${assertToken('node id', nodeId)}`;
}

export function nodeWildcard(prefix = DEFAULT_PREFIX): string {
  return `${prefix}.node.*`;
}

/** Every node answers; callers gather the replies. */
export function adminStateSubject(prefix = DEFAULT_PREFIX): string {
  return `${prefix}.admin.state`;
}

export function adminDrainSubject(nodeId: string, prefix = DEFAULT_PREFIX): string {
  return `${prefix}.admin.drain.${assertToken('node id', nodeId)}`;
}

export function usageSubject(prefix = DEFAULT_PREFIX): string {
  return `${prefix}.events.usage`;
}
