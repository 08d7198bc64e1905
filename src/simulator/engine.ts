/**
 * The simulation behind every simulated vendor: quotas, faults, latency and deterministic answers,
 * decided once per request and played out as canonical events. Protocol handlers only translate
 * this into their vendor's wire format.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../domain/index.js';
import type { Config, Deployment, VendorRegion } from '../config/index.js';
import { answerFor, type SimAnswer } from './answer.js';
import { FaultBoard, type Fault } from './faults.js';
import { DEFAULT_LATENCY, LatencyProfileSchema, drawLatency, type LatencyProfile } from './latency.js';
import { DeploymentQuota, type QuotaState } from './quota.js';
import { hashText, seededRandom } from './random.js';
import { SimulatorStats } from './stats.js';

export interface SimulationOptions {
  config: Config;
  seed?: number;
  /** Latency per vendor-region id or deployment id (`model@vendor-region`); the latter wins. */
  latency?: Record<string, unknown>;
  /** Multiplies every delay; 0 answers at once (tests), 1 is real time. */
  latencyScale?: number;
  /** Simulated time runs this many times faster than real time (for daily drift). */
  timeScale?: number;
  now?: () => number;
}

/** Why a request is refused before any answer, in terms each protocol maps to its own error. */
export type Refusal =
  | { kind: 'rate_limited'; limit: 'rpm' | 'tpm' | 'concurrency'; retryAfterMs: number }
  | { kind: 'throttled'; retryAfterMs: number }
  | { kind: 'unavailable'; status: 500 | 503 }
  | { kind: 'overloaded' }
  /** Accept the request and never answer. */
  | { kind: 'hang' };

/** One step of a streamed answer: a canonical event, or a way the stream breaks. */
export type SimStep =
  | { type: 'event'; event: StreamEvent }
  | { type: 'cut' }
  | { type: 'malformed' }
  | { type: 'stream_error'; error: 'overloaded' | 'server_error' | 'rate_limited' };

export interface SimCall {
  id: string;
  refusal?: Refusal | undefined;
  answer: SimAnswer;
  /** The answer as a whole, after the time it takes; `broken` when a fault spoils it. */
  complete(signal?: AbortSignal): Promise<{ response: CanonicalResponse } | { broken: 'cut' | 'malformed' }>;
  steps(signal?: AbortSignal): AsyncGenerator<SimStep>;
  /** Must be called when the exchange ends, however it ends, to release concurrency. */
  finish(closedByClient: boolean): void;
}

export class Simulation {
  readonly faults: FaultBoard;
  readonly stats = new SimulatorStats();
  readonly seed: number;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly random: () => number;
  private readonly quotas = new Map<string, DeploymentQuota>();
  private readonly latency = new Map<string, LatencyProfile>();
  private callCount = 0;

  constructor(private readonly options: SimulationOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.seed = options.seed ?? 1;
    this.random = seededRandom(this.seed);
    this.faults = new FaultBoard(this.now);
    for (const [key, profile] of Object.entries(options.latency ?? {})) this.latency.set(key, LatencyProfileSchema.parse(profile));
  }

  get config(): Config {
    return this.options.config;
  }

  quotaState(deployment: Deployment): QuotaState {
    return this.quotaOf(deployment).state();
  }

  private quotaOf(deployment: Deployment): DeploymentQuota {
    let quota = this.quotas.get(deployment.id);
    if (!quota) {
      quota = new DeploymentQuota(deployment.quota, this.now);
      this.quotas.set(deployment.id, quota);
    }
    return quota;
  }

  private profileOf(deployment: Deployment): LatencyProfile {
    return this.latency.get(deployment.id) ?? this.latency.get(deployment.vendorRegion) ?? DEFAULT_LATENCY;
  }

  /** Decides everything about one request: refusal, faults, latency and the answer. */
  begin(vendorRegion: VendorRegion, deployment: Deployment, request: CanonicalRequest): SimCall {
    const id = `${hashText(`${deployment.id}:${this.callCount++}`, this.seed).toString(36)}${this.callCount.toString(36)}`;
    const faults = this.faults.matching(vendorRegion.id, deployment.model).filter((a) => this.random() < a.fault.probability);
    const of = <K extends Fault['kind']>(kind: K) => faults.find((a) => a.fault.kind === kind)?.fault as Extract<Fault, { kind: K }> | undefined;
    const answer = answerFor(request, this.seed);
    this.stats.count(deployment.id, 'requests');

    const refusal = this.refusalFor(of, deployment, answer.inputTokens + request.maxTokens);
    const quota = this.quotaOf(deployment);
    const admitted = refusal === undefined;
    if (refusal) this.stats.count(deployment.id, refusal.kind === 'rate_limited' ? 'rateLimited' : 'refusedByFault');

    const latency = drawLatency(this.profileOf(deployment), {
      random: this.random,
      simulatedMs: (this.now() - this.startedAt) * (this.options.timeScale ?? 1),
      scale: this.options.latencyScale ?? 1,
      slowdown: of('brownout')?.factor ?? 1,
    });
    const drip = of('drip')?.intervalMs;
    const interTokenMs = drip ?? latency.interTokenMs;
    const breakAt = (kind: 'cut' | 'malformed' | 'stream_error') => of(kind)?.afterEvents;
    const streamError = of('stream_error');
    const events = streamEvents(id, deployment.vendorModelId, answer);
    const stats = this.stats;
    let finished = false;

    return {
      id,
      refusal,
      answer,
      async complete(signal) {
        await pause(latency.ttftMs + interTokenMs * answer.tokens.length, signal);
        if (of('cut')) return { broken: 'cut' };
        if (of('malformed')) return { broken: 'malformed' };
        return { response: responseOf(id, deployment.vendorModelId, answer) };
      },
      async *steps(signal) {
        stats.count(deployment.id, 'streams');
        // Tokens keep the vendor's pace, not the host's: each is due at its own time from the
        // start, so one late timer on a busy machine does not delay every token after it (chained
        // sleeps added 100-250 ms to a 30-token answer whenever the benchmarks loaded the CPU).
        let due = performance.now();
        for (let i = 0; i < events.length; i++) {
          const breaking: SimStep | undefined =
            i === breakAt('cut')
              ? { type: 'cut' }
              : i === breakAt('malformed')
                ? { type: 'malformed' }
                : streamError && i === streamError.afterEvents
                  ? { type: 'stream_error', error: streamError.error }
                  : undefined;
          if (breaking) {
            yield breaking;
            return;
          }
          const event = events[i]!;
          if (event.type === 'delta') {
            due += isFirstDelta(events, i) ? latency.ttftMs : interTokenMs;
            await pause(due - performance.now(), signal);
          }
          if (signal?.aborted) return;
          yield { type: 'event', event };
        }
      },
      finish(closedByClient) {
        if (finished) return;
        finished = true;
        if (admitted) quota.release();
        if (closedByClient) stats.closedByClient(deployment.id);
      },
    };
  }

  private refusalFor(
    of: <K extends Fault['kind']>(kind: K) => Extract<Fault, { kind: K }> | undefined,
    deployment: Deployment,
    tokens: number,
  ): Refusal | undefined {
    if (of('hang')) return { kind: 'hang' };
    const outage = of('outage');
    if (outage) return { kind: 'unavailable', status: outage.mode === '500' ? 500 : 503 };
    if (of('overload')) return { kind: 'overloaded' };
    const throttle = of('throttle');
    if (throttle) return { kind: 'throttled', retryAfterMs: throttle.retryAfterS * 1000 };
    const verdict = this.quotaOf(deployment).admit(tokens);
    return verdict.ok ? undefined : { kind: 'rate_limited', limit: verdict.limit, retryAfterMs: verdict.retryAfterMs };
  }
}

function isFirstDelta(events: StreamEvent[], i: number): boolean {
  return events.findIndex((e) => e.type === 'delta') === i;
}

async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return;
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // Aborted: the client went away; the caller checks the signal.
  }
}

/** The canonical events of an answer: start, input usage, one delta per token (or the tool call), output usage, end. */
export function streamEvents(id: string, model: string, answer: SimAnswer): StreamEvent[] {
  const events: StreamEvent[] = [
    { type: 'start', id, model },
    { type: 'usage', usage: { inputTokens: answer.inputTokens } },
  ];
  if (answer.toolCall) {
    const json = JSON.stringify(answer.toolCall.arguments);
    const half = Math.ceil(json.length / 2);
    events.push(
      { type: 'delta', index: 0, delta: { type: 'tool_call', id: answer.toolCall.id, name: answer.toolCall.name, argumentsJson: '' } },
      { type: 'delta', index: 0, delta: { type: 'tool_call', argumentsJson: json.slice(0, half) } },
      { type: 'delta', index: 0, delta: { type: 'tool_call', argumentsJson: json.slice(half) } },
    );
  } else {
    for (const token of answer.tokens) events.push({ type: 'delta', index: 0, delta: { type: 'text', text: token } });
  }
  events.push(
    { type: 'usage', usage: { outputTokens: outputTokens(answer) } },
    { type: 'end', stopReason: answer.stopReason, ...(answer.stopSequence ? { stopSequence: answer.stopSequence } : {}) },
  );
  return events;
}

function outputTokens(answer: SimAnswer): number {
  return answer.toolCall ? Math.ceil(JSON.stringify(answer.toolCall.arguments).length / 4) + 5 : answer.tokens.length;
}

export function responseOf(id: string, model: string, answer: SimAnswer): CanonicalResponse {
  return {
    id,
    model,
    content: answer.toolCall ? [answer.toolCall] : [{ type: 'text', text: answer.tokens.join('') }],
    stopReason: answer.stopReason,
    ...(answer.stopSequence ? { stopSequence: answer.stopSequence } : {}),
    usage: { inputTokens: answer.inputTokens, outputTokens: outputTokens(answer) },
  };
}
