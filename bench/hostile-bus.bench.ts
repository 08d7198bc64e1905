/**
 * What a hostile message costs a router node before it is refused, against what an ordinary one
 * costs to accept: the request intake (headers, size and nesting scan, JSON, schema) and the gossip
 * checks (signer lookup, Ed25519 verification, schema, plausibility). All of it is synchronous, so
 * wall time here is CPU time. The issue measured a 20,000-deep tool schema at 28 ms of router CPU
 * per attempt, five attempts per request; "old path" reconstructs that work (parse, schema,
 * translation to the vendor body) for comparison.
 */
import { headers as natsHeaders } from '@nats-io/transport-node';
import { CanonicalRequestSchema } from '../src/domain/index.js';
import { DigestSchema, decodeGossip } from '../src/transport/gossip-schema.js';
import { implausibleDigest } from '../src/transport/gossip-plausibility.js';
import { generateSigner, readRequest, TrustedRouters } from '../src/transport/index.js';
import { toOpenAIRequest } from '../src/vendors/openai/translate.js';
import { measure, type Summary } from './stats.js';

export interface Row extends Summary {
  case: string;
  bytes: number;
  outcome: string;
}

const encode = (text: string) => new TextEncoder().encode(text);
const message = (text: string) => ({ subject: 'sy.req.otherwise', headers: natsHeaders(), data: encode(text) });
const ordinary = JSON.stringify({ model: 'gpt-4.1', maxTokens: 200, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello, Switchyard. '.repeat(20) }] }] });
const deepSchema = `{"model":"gpt-4.1","maxTokens":9,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"tools":[{"name":"t","inputSchema":{"p":${'['.repeat(20_000)}${']'.repeat(20_000)}}}]}`;
const userToolCall = JSON.stringify({ model: 'gpt-4.1', maxTokens: 9, messages: [{ role: 'user', content: [{ type: 'tool_call', id: 't1', name: 'x', arguments: {} }] }] });
const manyTools = JSON.stringify({ model: 'gpt-4.1', maxTokens: 9, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], tools: Array.from({ length: 129 }, (_, i) => ({ name: `t${i}`, inputSchema: { type: 'object' } })) });
const huge = JSON.stringify({ model: 'gpt-4.1', maxTokens: 9, messages: [{ role: 'user', content: [{ type: 'text', text: 'x'.repeat(4 * 1024 * 1024) }] }] });

function intake(name: string, text: string, samples = 300): Row {
  const msg = message(text);
  const result = readRequest(msg);
  return { case: `intake: ${name}`, bytes: msg.data.byteLength, outcome: 'error' in result ? `${result.error.code} (${result.error.field})` : 'accepted', ...measure(() => readRequest(msg), { samples }) };
}

/** The work the deep schema cost before it was refused at the door: parsed, validated, translated, for every attempt. */
function oldPath(): Row {
  let outcome = 'sent to the vendor';
  const run = () => {
    const parsed = CanonicalRequestSchema.parse(JSON.parse(deepSchema));
    try {
      return JSON.stringify(toOpenAIRequest(parsed, 'gpt-4.1', { stream: true }));
    } catch (error) {
      // What the adapter hit: a RangeError, which the attempt reported as `internal`, retryable.
      outcome = `${(error as Error).name}, retried as internal`;
      return undefined;
    }
  };
  const summary = measure(run, { warmup: 3, samples: 30 });
  return { case: 'old path, one attempt: 20,000-deep tool schema parsed, checked, translated', bytes: deepSchema.length, outcome, ...summary };
}

function gossip(): Row[] {
  const { signer } = generateSigner();
  const trusted = new TrustedRouters({ n1: [signer.publicKey] });
  const subject = 'sy.state.anthropic.global';
  const digest = {
    v: 1, node: 'n1', seq: 1, at: Date.now(), vendorRegion: 'anthropic', state: 'healthy', window: { requests: 40, faults: 1, throttles: 0 },
    deployments: [{ id: 'claude-sonnet-4@anthropic', state: 'healthy', ttftMs: 420, ttftSamples: 40, inFlight: 3, window: { requests: 40, faults: 1, throttles: 0 }, quota: {} }],
  };
  const data = encode(JSON.stringify(digest));
  const signed = signer.headers(subject, data);
  const stranger = generateSigner().signer.headers(subject, data);
  const accept = () => {
    const verdict = trusted.verify(subject, data, signed);
    const decoded = decodeGossip(DigestSchema, data);
    return verdict.ok && decoded.ok && implausibleDigest(decoded.value, Date.now(), 30_000) === undefined;
  };
  return [
    { case: 'gossip: a signed digest, verified, parsed and checked', bytes: data.byteLength, outcome: accept() ? 'accepted' : 'dropped', ...measure(accept, { samples: 1_000 }) },
    { case: 'gossip: unsigned', bytes: data.byteLength, outcome: trusted.verify(subject, data, natsHeaders()).ok ? 'accepted' : 'dropped', ...measure(() => trusted.verify(subject, data, natsHeaders()), { samples: 2_000 }) },
    { case: 'gossip: signed by an unknown key', bytes: data.byteLength, outcome: trusted.verify(subject, data, stranger).ok ? 'accepted' : 'dropped', ...measure(() => trusted.verify(subject, data, stranger), { samples: 2_000 }) },
    { case: 'gossip: signing one digest', bytes: data.byteLength, outcome: 'signed', ...measure(() => signer.headers(subject, data), { samples: 1_000 }) },
  ];
}

export function run(): Promise<Row[]> {
  return Promise.resolve([
    intake('an ordinary request', ordinary),
    intake('a 20,000-deep tool schema', deepSchema),
    intake('a tool call in a user message', userToolCall),
    intake('129 tools', manyTools),
    intake('4 MiB of text', huge, 30),
    oldPath(),
    ...gossip(),
  ]);
}
