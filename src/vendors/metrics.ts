/** Measures one vendor call as routing needs it: time to first byte and token, throughput, usage. */
import type { Usage } from '../domain/index.js';
import type { CallMetrics, CapacityHints } from './types.js';

/** Below this many output tokens a throughput figure is noise. */
const MIN_TOKENS_FOR_RATE = 2;

export class CallTimer {
  private readonly startedAt: number;
  private firstByteAt: number | undefined;
  private firstTokenAt: number | undefined;
  private endedAt: number | undefined;
  private usage: Partial<Usage> = {};
  private capacity: CapacityHints = {};

  constructor(private readonly now: () => number) {
    this.startedAt = now();
  }

  firstByte(capacity: CapacityHints): void {
    this.firstByteAt ??= this.now();
    this.capacity = capacity;
  }

  token(): void {
    this.firstTokenAt ??= this.now();
  }

  addUsage(usage: Partial<Usage>): void {
    this.usage = Object.assign({}, this.usage, usage);
  }

  end(): void {
    this.endedAt ??= this.now();
  }

  snapshot(): CallMetrics {
    const metrics: CallMetrics = { capacity: this.capacity };
    if (this.firstByteAt !== undefined) metrics.timeToFirstByteMs = this.firstByteAt - this.startedAt;
    if (this.firstTokenAt !== undefined) metrics.timeToFirstTokenMs = this.firstTokenAt - this.startedAt;
    if (this.endedAt !== undefined) metrics.durationMs = this.endedAt - this.startedAt;
    if (this.usage.inputTokens !== undefined || this.usage.outputTokens !== undefined) {
      metrics.usage = { inputTokens: 0, outputTokens: 0, ...this.usage };
    }
    const output = this.usage.outputTokens ?? 0;
    if (this.endedAt !== undefined && this.firstTokenAt !== undefined && output >= MIN_TOKENS_FOR_RATE) {
      const seconds = Math.max(this.endedAt - this.firstTokenAt, 1) / 1000;
      metrics.tokensPerSecond = output / seconds;
    }
    return metrics;
  }
}
