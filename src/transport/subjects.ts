/**
 * Every NATS subject Switchyard uses is built and parsed here (DESIGN.md section 4), so a subject
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
