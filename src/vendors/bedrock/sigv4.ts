/**
 * AWS Signature Version 4 for Bedrock: signing with
 * @smithy/signature-v4, as the official Anthropic Bedrock SDK does, and an independent verifier for
 * the simulator. The verifier is written out by hand so that it checks the signer instead of
 * agreeing with it by construction.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** The signing name of Bedrock Runtime; host sniffing would wrongly guess `bedrock-runtime`. */
export const BEDROCK_SERVICE = 'bedrock';

/** How far a request's `x-amz-date` may be from the server's clock, as AWS enforces it. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

const ALGORITHM = 'AWS4-HMAC-SHA256';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials only; sent and signed as `x-amz-security-token`. */
  sessionToken?: string | undefined;
}

export interface RequestToSign {
  method: string;
  /** The full URL as it will be sent, path already percent-encoded (`...v1%3A0/invoke`). */
  url: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

/**
 * The headers to send: the given ones plus `authorization`, `x-amz-date`, `x-amz-content-sha256`
 * (and `x-amz-security-token`). `host` is signed as the URL's host (with the port) but left out,
 * because undici writes exactly that value itself.
 */
export async function signBedrockRequest(
  request: RequestToSign,
  scope: { region: string; credentials: AwsCredentials },
  signingDate: Date = new Date(),
): Promise<Record<string, string>> {
  const url = new URL(request.url);
  const signer = new SignatureV4({ service: BEDROCK_SERVICE, region: scope.region, credentials: scope.credentials, sha256: Sha256 });
  const query: Record<string, string[]> = {};
  for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key);
  const signed = await signer.sign(
    new HttpRequest({
      method: request.method.toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port !== '' && { port: Number(url.port) }),
      path: url.pathname,
      query,
      headers: { ...request.headers, host: url.host },
      body: request.body,
    }),
    { signingDate },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) if (name.toLowerCase() !== 'host') headers[name] = value;
  return headers;
}

// ------------------------------------------------------------------------------------ verification

export interface ReceivedRequest {
  method: string;
  /** The path exactly as it arrived on the wire, still percent-encoded, without the query. */
  path: string;
  /** The raw query string without `?`; empty when there is none. */
  query: string;
  /** As Node gives them: lower-case names. */
  headers: Record<string, string | string[] | undefined>;
  body: string | Uint8Array;
}

/** The AWS error names a signature check ends in; each is a 403 with `x-amzn-ErrorType`. */
export type SigV4Failure =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'UnrecognizedClientException'
  | 'InvalidSignatureException';

export type SigV4Verdict = { ok: true } | { ok: false; error: SigV4Failure; reason: string };

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

/**
 * Recomputes the signature over exactly the headers the `Authorization` header names. Clients
 * differ in what they sign (aws4 signs content-length, @smithy x-amz-content-sha256), so a fixed
 * list would reject one or the other.
 */
export function verifySigV4(
  request: ReceivedRequest,
  credentials: AwsCredentials,
  now: Date | number,
  expected: { region?: string; service?: string } = {},
): SigV4Verdict {
  const fail = (error: SigV4Failure, reason: string): SigV4Verdict => ({ ok: false, error, reason });
  const authorization = headerValue(request.headers, 'authorization');
  if (authorization === undefined) return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const auth = parseAuthorization(authorization);
  if (typeof auth === 'string') {
    return /^bearer\s/i.test(authorization)
      ? fail('UnrecognizedClientException', 'The security token included in the request is invalid.')
      : fail('IncompleteSignatureException', auth);
  }
  if (auth.accessKeyId !== credentials.accessKeyId) {
    return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  const token = headerValue(request.headers, 'x-amz-security-token');
  // An empty session token means static keys, which must come without one.
  if (token !== (credentials.sessionToken || undefined)) {
    return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  // Over HTTP/2 the AWS SDK signs the `:authority` pseudo-header in place of `host`.
  if (!auth.signedHeaders.includes('host') && !auth.signedHeaders.includes(':authority')) {
    return fail('IncompleteSignatureException', "'Host' must be a signed header");
  }
  if (token !== undefined && !auth.signedHeaders.includes('x-amz-security-token')) {
    return fail('IncompleteSignatureException', "'X-Amz-Security-Token' must be a signed header");
  }
  const amzDate = headerValue(request.headers, 'x-amz-date');
  if (amzDate === undefined || !auth.signedHeaders.includes('x-amz-date')) {
    return fail('IncompleteSignatureException', "Authorization header requires existence of a signed 'X-Amz-Date' header");
  }
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) return fail('IncompleteSignatureException', `X-Amz-Date '${amzDate}' is not of the form YYYYMMDDTHHMMSSZ`);
  if (auth.date !== amzDate.slice(0, 8)) {
    return fail('InvalidSignatureException', `Date in Credential scope (${auth.date}) does not match YYYYMMDD from X-Amz-Date (${amzDate})`);
  }
  const nowMs = typeof now === 'number' ? now : now.getTime();
  if (signedAt < nowMs - MAX_CLOCK_SKEW_MS) {
    return fail('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(nowMs - MAX_CLOCK_SKEW_MS)} (${formatAmzDate(nowMs)} - 5 min.)`);
  }
  if (signedAt > nowMs + MAX_CLOCK_SKEW_MS) {
    return fail('InvalidSignatureException', `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(nowMs + MAX_CLOCK_SKEW_MS)} (${formatAmzDate(nowMs)} + 5 min.)`);
  }
  const service = expected.service ?? BEDROCK_SERVICE;
  if (auth.service !== service) return fail('InvalidSignatureException', `Credential should be scoped to correct service: '${service}'.`);
  if (expected.region !== undefined && auth.region !== expected.region) {
    return fail('InvalidSignatureException', `Credential should be scoped to a valid region, not '${auth.region}'.`);
  }
  if (auth.terminator !== 'aws4_request') return fail('IncompleteSignatureException', "Credential scope must end in 'aws4_request'");

  const bodyHash = sha256Hex(request.body);
  const declaredHash = headerValue(request.headers, 'x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== bodyHash) {
    return fail('InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const missing = auth.signedHeaders.filter((name) => headerValue(request.headers, name) === undefined);
  if (missing.length > 0) return fail('InvalidSignatureException', `signed header(s) not in the request: ${missing.join(', ')}`);

  const canonical = canonicalRequest({ ...request, signedHeaders: auth.signedHeaders, payloadHash: declaredHash ?? bodyHash });
  const credentialScope = `${auth.date}/${auth.region}/${auth.service}/${auth.terminator}`;
  const stringToSign = [ALGORITHM, amzDate, credentialScope, sha256Hex(canonical)].join('\n');
  const key = signingKey(credentials.secretAccessKey, auth.date, auth.region, auth.service);
  const signature = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(auth.signature, 'hex');
  if (given.length !== signature.length || !timingSafeEqual(given, signature)) {
    return fail(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. ' +
        `The Canonical String for this request should have been\n'${canonical}'\n\nThe String-to-Sign should have been\n'${stringToSign}'`,
    );
  }
  return { ok: true };
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=a;b, Signature=hex`, or why not. */
function parseAuthorization(header: string): ParsedAuthorization | string {
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(header.trim());
  if (!match) return `Authorization header is not ${ALGORITHM}`;
  const parts = new Map<string, string>();
  for (const part of (match[1] ?? '').split(',')) {
    const at = part.indexOf('=');
    if (at > 0) parts.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const credential = parts.get('Credential');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    return "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters";
  }
  const [accessKeyId, date, region, service, terminator, ...rest] = credential.split('/');
  if (!accessKeyId || !date || !region || !service || !terminator || rest.length > 0) {
    return `Credential '${credential}' is not of the form AKID/YYYYMMDD/region/service/aws4_request`;
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) return 'Signature must be 64 lower-case hex digits';
  return { accessKeyId, date, region, service, terminator, signedHeaders: signedHeaders.split(';').map((h) => h.toLowerCase()), signature };
}

/**
 * The canonical request of section 4.3, step 1. Non-S3 services encode each segment of the
 * already-encoded path once more, so `v1%3A0` is signed as `v1%253A0`.
 */
export function canonicalRequest(request: {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  signedHeaders: readonly string[];
  payloadHash: string;
}): string {
  const headers = [...request.signedHeaders].sort();
  return [
    request.method.toUpperCase(),
    canonicalPath(request.path),
    canonicalQuery(request.query),
    headers.map((name) => `${name}:${canonicalHeaderValue(request.headers[name])}\n`).join(''),
    headers.join(';'),
    request.payloadHash,
  ].join('\n');
}

/** As @smithy/signature-v4 does it: drop empty and `.` segments, resolve `..`, then encode again. */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${segments.map(uriEncode).join('/')}${trailing}`;
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const at = pair.indexOf('=');
      const [key, value] = at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
      return [uriEncode(safeDecode(key)), uriEncode(safeDecode(value))] as const;
    })
    .filter(([key]) => key !== 'X-Amz-Signature');
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([key, value]) => `${key}=${value}`).join('&');
}

function canonicalHeaderValue(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

/** RFC 3986: everything but `A-Z a-z 0-9 - _ . ~` is percent-encoded. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms;
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
