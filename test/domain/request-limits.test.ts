/** What a request may say and how big it may be, checked before any vendor is called (src/domain). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CanonicalRequestSchema,
  CredentialsMissingError,
  ErrorCode,
  FailureSchema,
  InvalidRequestError,
  nestsDeeperThan,
  REQUEST_LIMITS,
  RequestFailedError,
  requestLimitError,
  SwitchyardError,
  VendorError,
} from '../../src/domain/index.js';

const text = (t: string) => ({ type: 'text' as const, text: t });
const request = (messages: unknown[], extra: Record<string, unknown> = {}) => ({ model: 'gpt-4.1', maxTokens: 10, messages, ...extra });
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** The real nesting of a JSON value: scalars 0, each array or object one more than its deepest child. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe('what each role may say', () => {
  it.each([
    ['a user message holding a tool call', request([{ role: 'user', content: [text('hi'), { type: 'tool_call', id: 't1', name: 'x', arguments: {} }] }]), 'messages.0.content.1'],
    ['an assistant message holding an image', request([{ role: 'user', content: [text('hi')] }, { role: 'assistant', content: [{ type: 'image', source: { kind: 'url', url: 'https://example.com/a.png' } }] }]), 'messages.1.content.0'],
    ['an assistant message holding a tool result', request([{ role: 'assistant', content: [{ type: 'tool_result', toolCallId: 't1', content: [] }] }]), 'messages.0.content.0'],
  ])('refuses %s, naming the block', (_name, body, path) => {
    const parsed = CanonicalRequestSchema.safeParse(body);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual([path]);
  });

  it('accepts what every vendor takes: user text, images and tool results; assistant text and tool calls', () => {
    const body = request([
      { role: 'user', content: [text('look'), { type: 'image', source: { kind: 'url', url: 'https://example.com/a.png' } }] },
      { role: 'assistant', content: [text('calling'), { type: 'tool_call', id: 't1', name: 'lookup', arguments: { q: 1 } }] },
      { role: 'user', content: [{ type: 'tool_result', toolCallId: 't1', content: [text('42')] }] },
    ]);
    expect(CanonicalRequestSchema.safeParse(body).success).toBe(true);
  });
});

describe('request limits', () => {
  it('counts messages and tools', () => {
    const many = Array.from({ length: REQUEST_LIMITS.maxMessages + 1 }, () => ({ role: 'user', content: [text('x')] }));
    expect(CanonicalRequestSchema.safeParse(request(many)).error?.issues[0]?.path).toEqual(['messages']);
    const tools = Array.from({ length: REQUEST_LIMITS.maxTools + 1 }, (_, i) => ({ name: `t${i}`, inputSchema: { type: 'object' } }));
    expect(CanonicalRequestSchema.safeParse(request([{ role: 'user', content: [text('x')] }], { tools })).error?.issues[0]?.path).toEqual(['tools']);
  });

  it('refuses a 20,000-deep tool schema by its bytes, before any parse', () => {
    const deep = `{"type":"object","p":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const body = `{"model":"gpt-4.1","maxTokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"tools":[{"name":"t","inputSchema":${deep}}]}`;
    const failure = requestLimitError(new TextEncoder().encode(body));
    expect(failure).toMatchObject({ code: 'invalid_request', field: 'body', retryable: false });
    expect(FailureSchema.parse(failure)).toEqual(failure);
  });

  it('refuses a request over the byte limit, and passes an ordinary one', () => {
    expect(requestLimitError(new Uint8Array(REQUEST_LIMITS.maxBytes + 1))).toMatchObject({ code: 'invalid_request', field: 'body' });
    expect(requestLimitError(bytes(request([{ role: 'user', content: [text('hello')] }])))).toBeUndefined();
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(nestsDeeperThan(bytes({ a: '[[[[{{{{' }), 1)).toBe(false);
    expect(nestsDeeperThan(bytes({ a: 'say \\"[[[[\\"', b: '"{{{' }), 1)).toBe(false);
    expect(nestsDeeperThan(bytes({ a: { b: 'x' } }), 1)).toBe(true);
  });

  it('finds exactly the nesting of any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        const depth = depthOf(value);
        expect(nestsDeeperThan(bytes(value), depth)).toBe(false);
        if (depth > 0) expect(nestsDeeperThan(bytes(value), depth - 1)).toBe(true);
      }),
    );
  });
});

describe('typed errors', () => {
  it('a subclass check never takes another Switchyard error', () => {
    const vendor = new VendorError('boom', { code: 'vendor_unavailable', failureClass: 'fault', scope: 'deployment', retryable: true, persistent: false, vendor: 'anthropic', vendorRegion: 'anthropic' });
    const missing = new CredentialsMissingError('anthropic', 'no key');
    expect(vendor instanceof CredentialsMissingError).toBe(false);
    expect(missing instanceof VendorError).toBe(false);
    expect(missing instanceof CredentialsMissingError).toBe(true);
    expect(vendor instanceof SwitchyardError && missing instanceof SwitchyardError).toBe(true);
  });

  it('a failure on the wire must carry a known code', () => {
    expect(FailureSchema.safeParse({ code: 'interal', message: 'x', retryable: false }).success).toBe(false);
    expect(new RequestFailedError({ code: ErrorCode.NoRoute, message: 'x', retryable: false }).code).toBe('no_route');
  });

  it('an invalid request names its field and is never retryable', () => {
    const error = new InvalidRequestError('messages.0.content.1', 'only the assistant calls tools');
    expect(error).toMatchObject({ code: 'invalid_request', field: 'messages.0.content.1', retryable: false });
    expect(error.message).toContain('messages.0.content.1');
  });
});
