import { createPrivateKey, createVerify, generateKeyPairSync } from 'node:crypto';
import { request, type Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { VendorError } from '../../../src/domain/index.js';
import { FaultSchema } from '../../../src/simulator/faults.js';
import type { RunningSimulator } from '../../../src/simulator/index.js';
import { createVendorDispatcher } from '../../../src/vendors/http.js';
import { CLOUD_PLATFORM_SCOPE, JWT_BEARER_GRANT, buildAssertion, serviceAccountTokens, type ServiceAccountTokenOptions } from '../../../src/vendors/vertex/token.js';
import { startTestSimulator } from '../../helpers/simulator.js';

const VERTEX = 'vertex/us-east5';
const source = { vendor: 'vertex' as const, vendorRegion: VERTEX };

let simulator: RunningSimulator;
let dispatcher: Agent;
let endpoint: string;

beforeAll(async () => {
  ({ simulator } = await startTestSimulator());
  dispatcher = createVendorDispatcher();
  endpoint = simulator.endpoints()[VERTEX]!;
});

afterAll(async () => {
  await dispatcher.close();
  await simulator.close();
});

beforeEach(() => {
  simulator.simulation.faults.clear();
  simulator.log.clear();
});

const keyText = () => JSON.stringify(simulator.credentials.serviceAccount);
const grants = () => simulator.log.list(VERTEX).filter((e) => e.path === '/token');

function provider(overrides: Partial<ServiceAccountTokenOptions> = {}) {
  return serviceAccountTokens({ source, dispatcher, tokenUrl: `${endpoint}/token`, readKey: () => Promise.resolve(keyText()), ...overrides });
}

function decodeJwt(jwt: string): { header: Record<string, unknown>; claims: Record<string, unknown>; signingInput: string; signature: Buffer } {
  const [header, claims, signature] = jwt.split('.') as [string, string, string];
  const json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: json(header), claims: json(claims), signingInput: `${header}.${claims}`, signature: Buffer.from(signature, 'base64url') };
}

async function postGrant(assertion: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await request(`${endpoint}/token`, {
    dispatcher,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
  });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
}

async function rejection(promise: Promise<unknown>): Promise<VendorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VendorError);
  return error as VendorError;
}

describe('the JWT-bearer assertion', () => {
  it('is RS256-signed by the service account, with kid, iss, scope, aud and an hour of life', () => {
    const key = simulator.credentials.serviceAccount;
    const now = Date.UTC(2025, 0, 1, 12, 0, 0);
    const jwt = decodeJwt(buildAssertion(key, createPrivateKey(key.private_key), 'https://oauth2.googleapis.com/token', now));
    expect(jwt.header).toStrictEqual({ alg: 'RS256', typ: 'JWT', kid: key.private_key_id });
    expect(jwt.claims).toStrictEqual({
      iss: key.client_email,
      scope: CLOUD_PLATFORM_SCOPE,
      aud: 'https://oauth2.googleapis.com/token',
      iat: now / 1000,
      exp: now / 1000 + 3600,
    });
    const verified = createVerify('RSA-SHA256').update(jwt.signingInput).verify(simulator.credentials.serviceAccountPublicKey, jwt.signature);
    expect(verified).toBe(true);
  });

  it('is what the simulated token endpoint trades for a token its predict endpoint accepts', async () => {
    const token = await provider().token();
    expect(token).toMatch(/^ya29\./);
    expect(simulator.tokens.isValid(token)).toBe(true);
    const [grant] = grants();
    expect(grant?.method).toBe('POST');
    expect(grant?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('is refused by the simulated endpoint when signed for another audience', async () => {
    const key = simulator.credentials.serviceAccount;
    const assertion = buildAssertion(key, createPrivateKey(key.private_key), 'https://oauth2.googleapis.com/token', Date.now());
    const { status, body } = await postGrant(assertion);
    expect(status).toBe(400);
    expect(body['error']).toBe('invalid_grant');
    expect(body['error_description']).toMatch(/audience/);
  });

  it('is refused by the simulated endpoint once expired', async () => {
    const key = simulator.credentials.serviceAccount;
    const assertion = buildAssertion(key, createPrivateKey(key.private_key), `${endpoint}/token`, Date.now() - 2 * 3600_000);
    const { status, body } = await postGrant(assertion);
    expect(status).toBe(400);
    expect(body['error']).toBe('invalid_grant');
  });

  it('is accepted under the URL the client used to reach the endpoint (localhost for 127.0.0.1)', async () => {
    const viaLocalhost = endpoint.replace('127.0.0.1', 'localhost');
    const token = await provider({ tokenUrl: `${viaLocalhost}/token` }).token();
    expect(simulator.tokens.isValid(token)).toBe(true);
  });
});

describe('serviceAccountTokens', () => {
  it('caches the token: two calls, one grant', async () => {
    const tokens = provider();
    const first = await tokens.token();
    const second = await tokens.token();
    expect(second).toBe(first);
    expect(grants()).toHaveLength(1);
  });

  it('makes one grant for many concurrent callers', async () => {
    const tokens = provider();
    const all = await Promise.all(Array.from({ length: 8 }, () => tokens.token()));
    expect(new Set(all).size).toBe(1);
    expect(grants()).toHaveLength(1);
  });

  it('refreshes once the token is within five minutes of expiry', async () => {
    // Issued on a clock 54.5 minutes behind, the 3599 s token is due 29 s from real now; a jump 30 s ahead
    // makes it due (and stays within the clock skew the token endpoint allows for the next assertion).
    let offsetMs = -(54 * 60_000 + 30_000);
    const tokens = provider({ clock: () => Date.now() + offsetMs });
    const first = await tokens.token();
    expect(await tokens.token()).toBe(first);
    expect(grants()).toHaveLength(1);
    offsetMs = 30_000;
    const second = await tokens.token();
    expect(second).not.toBe(first);
    expect(grants()).toHaveLength(2);
  });

  it('forgets a token the API refused, and only that one', async () => {
    const tokens = provider();
    const first = await tokens.token();
    tokens.refused('ya29.some-other-token');
    expect(await tokens.token()).toBe(first);
    tokens.refused(first);
    expect(await tokens.token()).not.toBe(first);
    expect(grants()).toHaveLength(2);
  });

  it('turns a key the endpoint does not trust into vendor_auth for the whole vendor-region, persistent', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const badKey = JSON.stringify({ ...simulator.credentials.serviceAccount, private_key: stranger });
    const error = await rejection(provider({ readKey: () => Promise.resolve(badKey) }).token());
    expect(error).toMatchObject({ code: 'vendor_auth', scope: 'vendor_region', persistent: true, failureClass: 'fault', status: 400, vendorCode: 'invalid_grant' });
    expect(grants()).toHaveLength(1);
  });

  it('turns a key that is not a service-account key into vendor_auth without calling the endpoint', async () => {
    const notJson = await rejection(provider({ readKey: () => Promise.resolve('not json') }).token());
    expect(notJson).toMatchObject({ code: 'vendor_auth', scope: 'vendor_region', persistent: true });
    const noKey = await rejection(provider({ readKey: () => Promise.resolve('{"client_email":"a@b"}') }).token());
    expect(noKey.message).toMatch(/private_key/);
    const unreadable = await rejection(provider({ readKey: () => Promise.reject(new Error('GOOGLE_APPLICATION_CREDENTIALS is not set')) }).token());
    expect(unreadable).toMatchObject({ code: 'vendor_auth', persistent: true });
    expect(grants()).toHaveLength(0);
  });

  it('reports an unreachable token endpoint as a connection fault of the vendor-region, not persistent', async () => {
    simulator.simulation.faults.add(FaultSchema.parse({ vendorRegion: VERTEX, kind: 'outage', mode: 'refuse', durationMs: 60_000 }));
    const error = await rejection(provider().token());
    expect(error).toMatchObject({ code: 'vendor_connection', scope: 'vendor_region', persistent: false });
    simulator.simulation.faults.clear();
    // The server listens again once the fault is gone; the next refresh succeeds.
    await vi.waitFor(async () => expect(simulator.tokens.isValid(await provider().token())).toBe(true));
  });

  it('answers an already aborted caller with cancelled and makes no grant', async () => {
    const error = await rejection(provider().token(AbortSignal.abort()));
    expect(error.code).toBe('cancelled');
    expect(grants()).toHaveLength(0);
  });
});
