import { describe, expect, it } from 'vitest';
import { canonicalRequest, sha256Hex, signBedrockRequest, verifySigV4, type ReceivedRequest } from '../../../src/vendors/bedrock/sigv4.js';

// A fixed request, key and time, and the SigV4 signature AWS's algorithm gives for them.
const VECTOR = {
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  region: 'us-east-1',
  date: new Date('2024-01-01T00:00:00Z'),
  host: 'bedrock-runtime.us-east-1.amazonaws.com',
  path: '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke',
  body: '{"anthropic_version":"bedrock-2023-05-31","max_tokens":256,"messages":[{"role":"user","content":"Hello"}]}',
  bodySha256: 'c27c7b8cc50aa532e7f76c05e878607ce1a40437e5970b1ec1d75b972525bfa6',
};

const AWS4_CANONICAL_REQUEST = [
  'POST',
  '/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/invoke',
  '',
  'accept:application/json',
  'content-length:106',
  'content-type:application/json',
  `host:${VECTOR.host}`,
  'x-amz-date:20240101T000000Z',
  '',
  'accept;content-length;content-type;host;x-amz-date',
  VECTOR.bodySha256,
].join('\n');

function authorization(signedHeaders: string, signature: string, credential = 'AKIDEXAMPLE/20240101/us-east-1/bedrock/aws4_request'): string {
  return `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

/** What a server receives from our signer: lower-case names, plus the host undici writes. */
async function signedLocally(options: { sessionToken?: string; port?: number; extraHeaders?: Record<string, string> } = {}): Promise<ReceivedRequest> {
  const host = `127.0.0.1:${options.port ?? 8123}`;
  const headers = await signBedrockRequest(
    {
      method: 'POST',
      url: `http://${host}${VECTOR.path}`,
      headers: { 'content-type': 'application/json', accept: 'application/json', ...options.extraHeaders },
      body: VECTOR.body,
    },
    { region: 'us-east-1', credentials: { ...VECTOR.credentials, ...(options.sessionToken && { sessionToken: options.sessionToken }) } },
    VECTOR.date,
  );
  const received: Record<string, string> = { host, 'content-length': '106', 'user-agent': 'undici' };
  for (const [name, value] of Object.entries(headers)) received[name.toLowerCase()] = value;
  return { method: 'POST', path: VECTOR.path, query: '', headers: received, body: VECTOR.body };
}

describe('signBedrockRequest', () => {
  it('reproduces the @smithy signature of the section 4.3 test vector, double-encoding the path', async () => {
    const headers = await signBedrockRequest(
      { method: 'POST', url: `https://${VECTOR.host}${VECTOR.path}`, headers: { accept: 'application/json', 'content-type': 'application/json' }, body: VECTOR.body },
      { region: VECTOR.region, credentials: VECTOR.credentials },
      VECTOR.date,
    );
    expect(headers.authorization).toBe(
      authorization('accept;content-type;host;x-amz-content-sha256;x-amz-date', '7a65b4154253de8015e791cdf0938f8be39b144cbd88e85e98f94b3e63ef1b06'),
    );
    expect(headers['x-amz-date']).toBe('20240101T000000Z');
    expect(headers['x-amz-content-sha256']).toBe(VECTOR.bodySha256);
    // undici writes the host itself; sending a second one would be wrong.
    expect(Object.keys(headers).map((h) => h.toLowerCase())).not.toContain('host');
  });

  it('signs a session token as x-amz-security-token', async () => {
    const request = await signedLocally({ sessionToken: 'FQoGZXIvYXdzEXAMPLE' });
    expect(request.headers['x-amz-security-token']).toBe('FQoGZXIvYXdzEXAMPLE');
    expect(request.headers.authorization).toContain('x-amz-security-token');
  });
});

describe('canonicalRequest', () => {
  it('builds the aws4 canonical request of the test vector and its documented hash', () => {
    const text = canonicalRequest({
      method: 'POST',
      path: VECTOR.path,
      query: '',
      headers: { accept: 'application/json', 'content-length': '106', 'content-type': 'application/json', host: VECTOR.host, 'x-amz-date': '20240101T000000Z' },
      signedHeaders: ['accept', 'content-length', 'content-type', 'host', 'x-amz-date'],
      payloadHash: sha256Hex(VECTOR.body),
    });
    expect(text).toBe(AWS4_CANONICAL_REQUEST);
    expect(sha256Hex(text)).toBe('330c0fd699c7c62525a276893e91ed3b0351f12b71f8452b8af6e684eebf65b8');
  });

  it('sorts and encodes the query, and trims and collapses header values', () => {
    const text = canonicalRequest({
      method: 'get',
      path: '/a%20b/./c/../d',
      query: 'b=2&a=x%20y&a=1',
      headers: { 'x-amz-date': '  20240101T000000Z ', host: 'h', 'x-spaced': 'one   two' },
      signedHeaders: ['x-spaced', 'host'],
      payloadHash: 'p',
    });
    expect(text.split('\n')).toEqual(['GET', '/a%2520b/d', 'a=1&a=x%20y&b=2', 'host:h', 'x-spaced:one two', '', 'host;x-spaced', 'p']);
  });
});

describe('verifySigV4', () => {
  const vectorRequest = (signedHeaders: string, signature: string, extra: Record<string, string> = {}): ReceivedRequest => ({
    method: 'POST',
    path: VECTOR.path,
    query: '',
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      'content-length': '106',
      host: VECTOR.host,
      'x-amz-date': '20240101T000000Z',
      authorization: authorization(signedHeaders, signature),
      ...extra,
    },
    body: VECTOR.body,
  });

  it('accepts the aws4 signature of the test vector (content-length signed)', () => {
    const request = vectorRequest('accept;content-length;content-type;host;x-amz-date', '8d48528c058835a35fb8119ea9bcd2415513aa171b726f8c3d4ce9e2ec197996');
    expect(verifySigV4(request, VECTOR.credentials, VECTOR.date, { region: 'us-east-1' })).toEqual({ ok: true });
  });

  it('accepts the @smithy signature of the test vector (x-amz-content-sha256 signed)', () => {
    const request = vectorRequest('accept;content-type;host;x-amz-content-sha256;x-amz-date', '7a65b4154253de8015e791cdf0938f8be39b144cbd88e85e98f94b3e63ef1b06', {
      'x-amz-content-sha256': VECTOR.bodySha256,
    });
    expect(verifySigV4(request, VECTOR.credentials, VECTOR.date)).toEqual({ ok: true });
  });

  it('rejects a signature computed over the single-encoded path', () => {
    // Same headers as the aws4 vector, but the path arrived decoded: its canonical form differs.
    const request = { ...vectorRequest('accept;content-length;content-type;host;x-amz-date', '8d48528c058835a35fb8119ea9bcd2415513aa171b726f8c3d4ce9e2ec197996'), path: '/model/anthropic.claude-3-5-sonnet-20240620-v1:0/invoke' };
    expect(verifySigV4(request, VECTOR.credentials, VECTOR.date)).toMatchObject({ ok: false, error: 'InvalidSignatureException' });
  });

  it('accepts what the signer produced, host with its port', async () => {
    expect(verifySigV4(await signedLocally(), VECTOR.credentials, VECTOR.date, { region: 'us-east-1' })).toEqual({ ok: true });
  });

  it('rejects a tampered body', async () => {
    const request = { ...(await signedLocally()), body: VECTOR.body.replace('256', '999') };
    expect(verifySigV4(request, VECTOR.credentials, VECTOR.date)).toMatchObject({ ok: false, error: 'InvalidSignatureException', reason: expect.stringContaining('x-amz-content-sha256') });
  });

  it('rejects a tampered body when the client signed no x-amz-content-sha256 (aws4 style)', () => {
    const request = vectorRequest('accept;content-length;content-type;host;x-amz-date', '8d48528c058835a35fb8119ea9bcd2415513aa171b726f8c3d4ce9e2ec197996');
    const tampered = { ...request, body: VECTOR.body.replace('Hello', 'Howdy') };
    expect(verifySigV4(tampered, VECTOR.credentials, VECTOR.date)).toMatchObject({ ok: false, error: 'InvalidSignatureException', reason: expect.stringContaining('signature') });
  });

  it('rejects a wrong secret and names the canonical request it expected', async () => {
    const verdict = verifySigV4(await signedLocally(), { ...VECTOR.credentials, secretAccessKey: 'not-the-secret' }, VECTOR.date);
    expect(verdict).toMatchObject({ ok: false, error: 'InvalidSignatureException', reason: expect.stringContaining('/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/invoke') });
  });

  it('rejects an unknown access key as UnrecognizedClientException', async () => {
    const verdict = verifySigV4(await signedLocally(), { ...VECTOR.credentials, accessKeyId: 'AKIDOTHER' }, VECTOR.date);
    expect(verdict).toMatchObject({ ok: false, error: 'UnrecognizedClientException' });
  });

  it('ignores a changed unsigned header but not a changed signed one', async () => {
    const signed = await signedLocally();
    const unsignedChanged = { ...signed, headers: { ...signed.headers, 'user-agent': 'something-else', 'x-forwarded-for': '10.0.0.1' } };
    expect(verifySigV4(unsignedChanged, VECTOR.credentials, VECTOR.date)).toEqual({ ok: true });
    const signedChanged = { ...signed, headers: { ...signed.headers, accept: 'text/event-stream' } };
    expect(verifySigV4(signedChanged, VECTOR.credentials, VECTOR.date)).toMatchObject({ ok: false, error: 'InvalidSignatureException' });
    const otherPort = { ...signed, headers: { ...signed.headers, host: '127.0.0.1:8124' } };
    expect(verifySigV4(otherPort, VECTOR.credentials, VECTOR.date)).toMatchObject({ ok: false, error: 'InvalidSignatureException' });
  });

  it('allows up to five minutes of clock skew either way, and no more', async () => {
    const signed = await signedLocally();
    const at = (minutes: number) => VECTOR.date.getTime() + minutes * 60_000;
    expect(verifySigV4(signed, VECTOR.credentials, at(4.9))).toEqual({ ok: true });
    expect(verifySigV4(signed, VECTOR.credentials, at(-4.9))).toEqual({ ok: true });
    expect(verifySigV4(signed, VECTOR.credentials, at(5.1))).toMatchObject({ ok: false, error: 'InvalidSignatureException', reason: expect.stringContaining('Signature expired') });
    expect(verifySigV4(signed, VECTOR.credentials, at(-5.1))).toMatchObject({ ok: false, error: 'InvalidSignatureException', reason: expect.stringContaining('not yet current') });
  });

  it('names a missing Authorization header MissingAuthenticationTokenException', async () => {
    const signed = await signedLocally();
    const { authorization: _auth, ...headers } = signed.headers;
    expect(verifySigV4({ ...signed, headers }, VECTOR.credentials, VECTOR.date)).toMatchObject({ ok: false, error: 'MissingAuthenticationTokenException' });
  });

  it('rejects a header that is not SigV4, and a scope for another region or service', async () => {
    const signed = await signedLocally();
    const garbled = { ...signed, headers: { ...signed.headers, authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE' } };
    expect(verifySigV4(garbled, VECTOR.credentials, VECTOR.date)).toMatchObject({ ok: false, error: 'IncompleteSignatureException' });
    expect(verifySigV4(signed, VECTOR.credentials, VECTOR.date, { region: 'us-west-2' })).toMatchObject({ ok: false, error: 'InvalidSignatureException', reason: expect.stringContaining('region') });
    expect(verifySigV4(signed, VECTOR.credentials, VECTOR.date, { service: 'bedrock-runtime' })).toMatchObject({ ok: false, error: 'InvalidSignatureException', reason: expect.stringContaining('service') });
  });

  it('requires the session token exactly when the credentials are temporary', async () => {
    const withToken = await signedLocally({ sessionToken: 'token-1' });
    expect(verifySigV4(withToken, { ...VECTOR.credentials, sessionToken: 'token-1' }, VECTOR.date)).toEqual({ ok: true });
    expect(verifySigV4(withToken, VECTOR.credentials, VECTOR.date)).toMatchObject({ ok: false, error: 'UnrecognizedClientException' });
    expect(verifySigV4(await signedLocally(), { ...VECTOR.credentials, sessionToken: 'token-1' }, VECTOR.date)).toMatchObject({ ok: false, error: 'UnrecognizedClientException' });
    // An empty token in the config means static keys.
    expect(verifySigV4(await signedLocally(), { ...VECTOR.credentials, sessionToken: '' }, VECTOR.date)).toEqual({ ok: true });
  });
});
