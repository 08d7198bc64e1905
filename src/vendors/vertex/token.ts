/**
 * Google access tokens from a service-account key: a signed JWT traded
 * at the token endpoint for an opaque bearer token. Done by hand rather than with
 * google-auth-library because gtoken hard-codes Google's token URL, and the router must be able to
 * point it at a simulated endpoint (and at a private one behind a proxy).
 */
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { CredentialsMissingError, ErrorCode, VendorError, type VendorErrorCode } from '../../domain/index.js';
import { cancelledCall, transportFailure, type FailureSource } from '../classify.js';
import { readBodyText } from '../http.js';

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Google refuses assertions that live longer than an hour. */
const ASSERTION_LIFETIME_S = 3600;
/** google-auth-library refreshes this long before expiry, so a token never expires in flight. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** The token endpoint answers in milliseconds; one that does not is down for every deployment. */
const DEFAULT_TOKEN_TIMEOUT_MS = 10_000;

const ServiceAccountKeySchema = z.object({
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  private_key_id: z.string().min(1).optional(),
  token_uri: z.string().optional(),
});
export type ServiceAccountKey = z.infer<typeof ServiceAccountKeySchema>;

const TokenGrantSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  token_type: z.string().optional(),
});

/** RFC 6749 §5.2, as Google's token endpoint answers refusals. */
const TokenRefusalSchema = z.object({ error: z.string(), error_description: z.string().optional() });

export interface AccessTokenSource {
  /** A token good for a while yet; concurrent callers share one refresh. Rejects only with a VendorError. */
  token(signal?: AbortSignal): Promise<string>;
  /** The API refused this token (revoked, or expired early by clock skew): the next call fetches another. */
  refused(token: string): void;
}

export interface ServiceAccountTokenOptions {
  source: FailureSource;
  dispatcher: Dispatcher;
  /** The key file's JSON text; read on every refresh, so a rotated key is picked up. */
  readKey: () => Promise<string>;
  /** The vendor-region's token endpoint; otherwise the key's `token_uri`, otherwise Google's. */
  tokenUrl?: string | undefined;
  /** Wall clock in epoch ms: JWT times and token expiry are absolute. */
  clock?: () => number;
  timeoutMs?: number;
}

interface CachedToken {
  token: string;
  refreshAt: number;
}

export function serviceAccountTokens(options: ServiceAccountTokenOptions): AccessTokenSource {
  const { source } = options;
  const clock = options.clock ?? Date.now;
  let cached: CachedToken | undefined;
  let refreshing: Promise<CachedToken> | undefined;

  async function refresh(): Promise<CachedToken> {
    const key = await loadKey(source, options.readKey);
    const tokenUrl = options.tokenUrl ?? (key.token_uri || GOOGLE_TOKEN_URL);
    const issuedAt = clock();
    const assertion = signAssertion(source, key, tokenUrl, issuedAt);
    const grant = await exchangeAssertion(source, options.dispatcher, tokenUrl, assertion, options.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS);
    const lifetimeMs = grant.expires_in * 1000;
    return { token: grant.access_token, refreshAt: issuedAt + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2) };
  }

  return {
    token(signal) {
      if (signal?.aborted) return Promise.reject(cancelledCall(source));
      if (cached && clock() < cached.refreshAt) return Promise.resolve(cached.token);
      refreshing ??= refresh()
        .then((fresh) => (cached = fresh))
        .finally(() => (refreshing = undefined));
      return untilAborted(refreshing.then((fresh) => fresh.token), signal, () => cancelledCall(source));
    },
    refused(token) {
      // Another caller may already have replaced it; only the refused token is forgotten.
      if (cached?.token === token) cached = undefined;
    },
  };
}

/** The JWT-bearer assertion: RS256 over the header and claims Google checks (iss, scope, aud, iat, exp). */
export function buildAssertion(key: { client_email: string; private_key_id?: string | undefined }, privateKey: KeyObject, tokenUrl: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(key.private_key_id !== undefined && { kid: key.private_key_id }) };
  const claims = { iss: key.client_email, scope: CLOUD_PLATFORM_SCOPE, aud: tokenUrl, iat, exp: iat + ASSERTION_LIFETIME_S };
  const signingInput = `${base64url(header)}.${base64url(claims)}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(privateKey).toString('base64url');
  return `${signingInput}.${signature}`;
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function loadKey(source: FailureSource, readKey: () => Promise<string>): Promise<ServiceAccountKey> {
  let text: string;
  try {
    text = await readKey();
  } catch (error) {
    // A key that is not where the config says is our configuration, not the vendor's refusal.
    if (error instanceof CredentialsMissingError) throw error;
    throw credentialError(source, `the service-account key could not be read: ${messageOf(error)}`, undefined, error);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw credentialError(source, 'the service-account key is not JSON', undefined, error);
  }
  const parsed = ServiceAccountKeySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw credentialError(source, `the service-account key lacks ${issue?.path.join('.') || 'a field'} (${issue?.message ?? 'invalid'})`);
  }
  return parsed.data;
}

function signAssertion(source: FailureSource, key: ServiceAccountKey, tokenUrl: string, nowMs: number): string {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key.private_key);
  } catch (error) {
    throw credentialError(source, `the service-account private key is unusable: ${messageOf(error)}`, undefined, error);
  }
  return buildAssertion(key, privateKey, tokenUrl, nowMs);
}

async function exchangeAssertion(
  source: FailureSource,
  dispatcher: Dispatcher,
  tokenUrl: string,
  assertion: string,
  timeoutMs: number,
): Promise<z.infer<typeof TokenGrantSchema>> {
  let status: number;
  let text: string;
  try {
    const response = await request(tokenUrl, {
      dispatcher,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    status = response.statusCode;
    text = await readBodyText(response.body);
  } catch (error) {
    // Without a token no deployment of the vendor-region can be called: the endpoint's fault, not one model's.
    throw transportFailure(source, error, 'headers');
  }
  const json = parseJson(text);
  if (status !== 200) {
    const refusal = TokenRefusalSchema.safeParse(json);
    const vendorCode = refusal.success ? refusal.data.error : undefined;
    const what = `the token endpoint answered HTTP ${status}${vendorCode ? ` ${vendorCode}` : ''}${refusal.data?.error_description ? `: ${refusal.data.error_description}` : ''}`;
    // 429 and 5xx heal by themselves; any other refusal means the key or its grant is wrong.
    if (status === 429 || status >= 500) {
      throw tokenError(source, what, { code: ErrorCode.VendorUnavailable, persistent: false, status, vendorCode, excerpt: text.slice(0, 200) });
    }
    throw credentialError(source, what, { status, vendorCode, excerpt: text.slice(0, 200) });
  }
  const grant = TokenGrantSchema.safeParse(json);
  if (!grant.success) {
    throw tokenError(source, 'the token endpoint answered without an access token', { code: ErrorCode.VendorMalformed, persistent: false, status, excerpt: text.slice(0, 200) });
  }
  return grant.data;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

interface TokenErrorFields {
  code: VendorErrorCode;
  persistent: boolean;
  status?: number | undefined;
  vendorCode?: string | undefined;
  excerpt?: string | undefined;
}

/**
 * Every token failure concerns the whole vendor-region (no deployment can be called without a
 * token), and fails over. Built here until classify.ts has a helper for it.
 */
function tokenError(source: FailureSource, message: string, fields: TokenErrorFields, cause?: unknown): VendorError {
  return new VendorError(message, { ...source, failureClass: 'fault', scope: 'vendor_region', retryable: true, ...fields }, { cause });
}

/** A key that cannot be read or used, or a grant the endpoint refuses: a configuration error that will not heal. */
function credentialError(source: FailureSource, message: string, fields: Omit<TokenErrorFields, 'code' | 'persistent'> = {}, cause?: unknown): VendorError {
  return tokenError(source, message, { code: ErrorCode.VendorAuth, persistent: true, ...fields }, cause);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Waits for a shared promise, but lets one caller stop waiting without cancelling it for the others. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, reason: () => Error): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(reason());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}
