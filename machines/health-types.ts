/**
 * The health machine's vocabulary (health.machine.ts): its policy and defaults, its context, the
 * events it hears and what it starts from. actors/ and the machine's tests import them through
 * health.machine.ts.
 */
import type { FailureClass } from '../src/domain/index.js';
import type { PeakEwma } from './estimators.js';
import type { OutcomeWindow } from './outcome-window.js';

export interface HealthPolicy {
  /** Consecutive faults that open the breaker at once. */
  consecutiveFaults: number;
  /** The window fault rates are counted over. */
  windowMs: number;
  /** Requests (local and peers) the window needs before its rate means anything. */
  minVolume: number;
  /** Fault share in the window that opens the breaker. */
  openRate: number;
  /** Fault share in the window that marks the deployment degraded. */
  degradeRate: number;
  /** First open period; each further consecutive opening doubles it, up to maxOpenMs. */
  baseOpenMs: number;
  maxOpenMs: number;
  /** ± share of random spread on each open period, so nodes do not probe in lockstep. */
  jitter: number;
  /** Open period after a fault that will not heal by itself (bad credentials, used-up quota). */
  persistentOpenMs: number;
  /** Successful probes in halfOpen that close the breaker. */
  probes: number;
  /** How long a recovered deployment takes to get its full share back. */
  rampMs: number;
}

/** The defaults of docs/design.md, A1.5. */
export const DEFAULT_HEALTH_POLICY: HealthPolicy = {
  consecutiveFaults: 5,
  windowMs: 30_000,
  minVolume: 20,
  openRate: 0.5,
  degradeRate: 0.2,
  baseOpenMs: 30_000,
  maxOpenMs: 300_000,
  jitter: 0.15,
  persistentOpenMs: 600_000,
  probes: 3,
  rampMs: 30_000,
};

/** The time to first token a fault is scored as; it decays like any slow sample. */
export const FAULT_PENALTY_MS = 5_000;
/**
 * Each consecutive fault doubles the score, up to this: ten minutes is already worse than any
 * answer, and an unbounded estimate (12 faults made 10,000 s) is a number no peer should believe.
 */
export const MAX_FAULT_PENALTY_MS = 600_000;

export interface HealthContext {
  id: string;
  policy: HealthPolicy;
  consecutiveFaults: number;
  /** Local outcomes inside the window: requests that said something about health. */
  outcomes: OutcomeWindow;
  /** Fleet-wide window counts reported by peers (not including ours). */
  peers: { requests: number; faults: number };
  /**
   * The peers' counts when this breaker last recovered: evidence it has already outlived. Only
   * what peers see beyond it counts, or peers still open would re-open a recovered breaker with
   * the very faults it has just probed past.
   */
  peerBaseline: { requests: number; faults: number };
  /** What the last opening decided; changes only when the breaker opens or recovers. */
  breaker: Breaker;
  probesLeft: number;
  probesSucceeded: number;
  rampStartedAt: number | undefined;
  ttft: PeakEwma;
  ttftSamples: number[];
  tokensPerSecond: number | undefined;
  throttledUntil: number | undefined;
  /** Last time any event told us the time. */
  now: number;
  lastFault: { code: string; at: number } | undefined;
}

/**
 * The breaker's own bookkeeping, one key of the context: xstate copies the context with
 * `Object.assign` on every assign (each success, twice a request), and V8 makes a copy of more
 * than about 18 keys a dictionary, slower to read and larger to hold. Grouped, the context stays fast.
 */
export interface Breaker {
  /** Consecutive openings without a full recovery; drives the backoff. */
  openings: number;
  openMs: number;
  openedAt: number | undefined;
  persistent: boolean;
  /** Why the breaker last opened: strong local evidence is what peers may act on. */
  openReason: OpenReason | undefined;
  /** State of the seeded generator for jitter. */
  seed: number;
}

/** `consecutive` and `persistent` are strong evidence a peer acts on; `rate` peers see in the counts themselves. */
export type OpenReason = 'consecutive' | 'persistent' | 'rate' | 'peer' | 'admin';

/** What one successful answer teaches: when it ended, and how fast it was. */
export interface SuccessSample {
  at: number;
  ttftMs?: number | undefined;
  tokensPerSecond?: number | undefined;
}

export type HealthEvent =
  | ({ type: 'outcome.success'; probe?: boolean } & SuccessSample)
  /**
   * The successes one turn of the event loop heard, in order: what as many `outcome.success`
   * would record, for one event. Sent only while the machine is healthy, where a success changes
   * nothing but the record (actors/fleet.ts); a success that may change the state goes alone.
   */
  | { type: 'outcome.successes'; samples: readonly SuccessSample[] }
  | {
      type: 'outcome.failure';
      at: number;
      failureClass: FailureClass;
      code: string;
      persistent?: boolean;
      retryAfterMs?: number | undefined;
      probe?: boolean;
    }
  | { type: 'probe.taken'; at: number }
  | { type: 'probe.returned'; at: number }
  | { type: 'peer.counts'; requests: number; faults: number }
  /** A trusted peer opened this deployment on strong evidence. */
  | { type: 'peer.opened'; at: number; persistent: boolean }
  /** A trusted peer's probes found this deployment well again. */
  | { type: 'peer.recovered'; at: number }
  /** A stream here kept flowing far below this deployment's usual pace. */
  | { type: 'outcome.crawl'; at: number }
  | { type: 'admin.drain' }
  | { type: 'admin.undrain'; at: number }
  | { type: 'admin.open'; at: number; durationMs?: number };

export interface HealthInput {
  id: string;
  policy?: Partial<HealthPolicy>;
  seed?: number;
  now?: number;
}
