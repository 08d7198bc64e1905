/**
 * A failed vendor call, classified by the error policy (docs/design.md §3, health rules) so the
 * parts that react to it never look at vendor status codes themselves.
 */
import { SwitchyardError, type ErrorCode } from './errors.js';
import type { Vendor } from './vocabulary.js';

/**
 * Which loop a failure feeds: `capacity` lowers the admitted rate and never trips a breaker alone;
 * `fault` counts toward the breaker; `caller` goes back to the caller, never counted against the
 * vendor; `quota_exhausted` fails over and keeps the deployment open for long; `config` is our own
 * configuration (a missing credential): fail over, never counted against the vendor.
 */
export const FAILURE_CLASSES = ['capacity', 'fault', 'caller', 'quota_exhausted', 'config'] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** Connection-level faults are facts about the whole vendor-region; the rest about one deployment. */
export type FailureScope = 'vendor_region' | 'deployment';

export type VendorErrorCode = Extract<
  ErrorCode,
  `vendor_${string}` | typeof ErrorCode.Cancelled
>;

export interface VendorErrorDetails {
  code: VendorErrorCode;
  failureClass: FailureClass;
  scope: FailureScope;
  /** Whether another attempt (on this deployment after a wait, or on another) may succeed. */
  retryable: boolean;
  /** The fault will not heal by itself (bad credentials, unknown model, quota used up): open for long. */
  persistent: boolean;
  vendor: Vendor;
  vendorRegion: string;
  /** HTTP status, when the vendor answered with one. */
  status?: number | undefined;
  /** The vendor's own error type or code (`overloaded_error`, `ThrottlingException`, ...). */
  vendorCode?: string | undefined;
  /** When the vendor said how long to wait. */
  retryAfterMs?: number | undefined;
  /** A short excerpt of what the vendor sent, for logs; never a prompt. */
  excerpt?: string | undefined;
}

const HINTS: Record<FailureClass, string> = {
  capacity: 'The vendor is rate limiting: the router slows down on this deployment and tries another; wait for retry-after or raise the quota.',
  fault: 'The vendor failed: the router fails over to another deployment; check the vendor-region if it persists.',
  caller: 'The vendor rejected the request itself: fix the request (every vendor would refuse it as sent).',
  quota_exhausted: 'The account quota or spend limit is used up: raise it with the vendor; the router avoids this deployment meanwhile.',
  config: "Switchyard's own configuration for this vendor-region is incomplete: fix it as the message says; the router uses other vendor-regions meanwhile.",
};

export class VendorError extends SwitchyardError implements VendorErrorDetails {
  readonly code: VendorErrorCode;
  readonly failureClass: FailureClass;
  readonly scope: FailureScope;
  readonly retryable: boolean;
  readonly persistent: boolean;
  readonly vendor: Vendor;
  readonly vendorRegion: string;
  readonly status: number | undefined;
  readonly vendorCode: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly excerpt: string | undefined;

  constructor(message: string, details: VendorErrorDetails, options?: { cause?: unknown }) {
    super(`${details.vendorRegion}: ${message}`, HINTS[details.failureClass], options);
    this.code = details.code;
    this.failureClass = details.failureClass;
    this.scope = details.scope;
    this.retryable = details.retryable;
    this.persistent = details.persistent;
    this.vendor = details.vendor;
    this.vendorRegion = details.vendorRegion;
    this.status = details.status;
    this.vendorCode = details.vendorCode;
    this.retryAfterMs = details.retryAfterMs;
    this.excerpt = details.excerpt;
  }
}
