/**
 * The typed error hierarchy. Every error a user can see carries a stable `code` (match on it,
 * never on the message) and a `hint` saying what to do next.
 */

export const ErrorCode = {
  ConfigInvalid: 'config_invalid',
  ConfigNotFound: 'config_not_found',
  ConfigUnreadable: 'config_unreadable',
  Usage: 'usage',
  /** 429 or a rate-limit signal: slow down on this deployment; never trips a breaker alone. */
  VendorRateLimited: 'vendor_rate_limited',
  /** Account quota or spend limit used up: fail over, and keep this deployment open for long. */
  VendorQuotaExhausted: 'vendor_quota_exhausted',
  /** Anthropic 529, Bedrock service-unavailable: the vendor lacks capacity for everyone. */
  VendorOverloaded: 'vendor_overloaded',
  /** 5xx from the vendor. */
  VendorUnavailable: 'vendor_unavailable',
  /** Connection refused, reset, DNS or TLS failure: a vendor-region fact. */
  VendorConnection: 'vendor_connection',
  /** No first byte, or no next chunk, within the limit. */
  VendorTimeout: 'vendor_timeout',
  /** An error event inside a stream that began with 200. */
  VendorStreamError: 'vendor_stream_error',
  /** A stream that ended without its terminal event. */
  VendorStreamTruncated: 'vendor_stream_truncated',
  /** A response that does not parse: bad JSON, bad frame, bad CRC, wrong content type. */
  VendorMalformed: 'vendor_malformed',
  /** 401/403: the credentials of this vendor-region are wrong. */
  VendorAuth: 'vendor_auth',
  /** 404: the vendor does not know this model or deployment. */
  VendorNotFound: 'vendor_not_found',
  /** 400/413/422: the request itself is wrong; every vendor would refuse it. */
  VendorRejected: 'vendor_rejected',
  /** The vendor refused the content. */
  VendorContentFilter: 'vendor_content_filter',
  /** The caller gave up (abort signal or deadline). */
  Cancelled: 'cancelled',
  /** A stream broke after delivery began and could not resume; carries what was delivered. */
  StreamInterrupted: 'stream_interrupted',
  /** No route serves this model, environment and use case. */
  NoRoute: 'no_route',
  /** Every candidate deployment failed. */
  AllDeploymentsFailed: 'all_deployments_failed',
  DeadlineExceeded: 'deadline_exceeded',
  /** Retries are capped at a share of requests so they cannot multiply an outage. */
  RetryBudgetExhausted: 'retry_budget_exhausted',
  /**
   * Switchyard itself refused for capacity: every deployment lacked room for this pool and
   * priority, or this tenant had used its share. Carries retryAfterMs.
   */
  RateLimited: 'rate_limited',
  /** This router node holds as many requests as it may; another node or a later try will take it. */
  Overloaded: 'overloaded',
  /**
   * This router node had no room for the request where a peer had, before anything reached a
   * vendor. The node sends it as `declined` and the client sends the request again; only a caller
   * of the router system in-process could see it, and it never hands requests back.
   */
  HandedBack: 'handed_back',
  /** The router node is draining or stopped and takes no new requests. */
  RouterDraining: 'router_draining',
  /** No router node listens on the use case's request subject. */
  RouterUnavailable: 'router_unavailable',
  /** The router node went silent after delivery began. */
  RouterTimeout: 'router_timeout',
  /** A reply that breaks the request protocol (malformed, out of order). */
  RouterProtocol: 'router_protocol',
  /** A request the router refused as malformed; the error names the field. */
  InvalidRequest: 'invalid_request',
  /** NATS refused to let this client publish on the use case's subject (account permissions). */
  NotPermitted: 'not_permitted',
  /** A credential a vendor-region needs is not where the config says (our configuration, not the vendor). */
  CredentialsMissing: 'credentials_missing',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Every code, for schemas and exhaustive checks. */
export const ERROR_CODES = Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]];

const BRAND = Symbol.for('switchyard.error');

export abstract class SwitchyardError extends Error {
  abstract readonly code: ErrorCode;
  /** What the user should do next, in one sentence. */
  readonly hint: string;

  constructor(message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.hint = hint;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * Works across duplicate copies of this module (a config file loaded through its own loader):
   * any Switchyard error is a SwitchyardError; for a subclass, the prototype chain decides, or,
   * from another copy, the class name, so `instanceof CredentialsMissingError` never takes a VendorError.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null || !(BRAND in value)) return false;
    if (this === SwitchyardError) return true;
    return Function.prototype[Symbol.hasInstance].call(this, value) || (value as { name?: unknown }).name === this.name;
  }
}

/** One problem in a config: the path of the offending field and what was expected. */
export interface ConfigIssue {
  /** Dotted path with indexes, e.g. `routes.CLAUDE_SONNET_4.us_prod.conversation_serving[1]`. */
  path: string;
  message: string;
}

export class ConfigError extends SwitchyardError {
  readonly code = ErrorCode.ConfigInvalid;
  readonly issues: readonly ConfigIssue[];
  /** The file the config came from, when it came from one. */
  readonly source: string | undefined;

  constructor(issues: readonly ConfigIssue[], source?: string) {
    const where = source ? `${source} is not a valid config` : 'the config is not valid';
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const lines = issues.map((i) => (i.path ? `  ${i.path}: ${i.message}` : `  ${i.message}`));
    super(
      `${where} (${count}):\n${lines.join('\n')}`,
      'Fix the fields named above and run the command again; `switchyard config schema` prints a JSON Schema your editor can check against.',
    );
    this.issues = issues;
    this.source = source;
  }
}

export class ConfigNotFoundError extends SwitchyardError {
  readonly code = ErrorCode.ConfigNotFound;
  constructor(message: string) {
    super(
      message,
      'Pass --config PATH, set SWITCHYARD_CONFIG, or create switchyard.config.ts in this folder (examples/seed.config.ts is a complete one to start from).',
    );
  }
}

export class ConfigUnreadableError extends SwitchyardError {
  readonly code = ErrorCode.ConfigUnreadable;
  constructor(source: string, reason: string, options?: { cause?: unknown }) {
    super(
      `cannot read config ${source}: ${reason}`,
      'Check that the file is a .ts, .js, .json, .yaml or .yml config and that it parses; run with --debug for the full stack.',
      options,
    );
  }
}

/** Bad command-line use: unknown flag, missing argument, unknown command. */
export class UsageError extends SwitchyardError {
  readonly code = ErrorCode.Usage;
  constructor(message: string, hint = 'Run `switchyard --help` for the commands and their flags.') {
    super(message, hint);
  }
}

const REQUEST_HINTS: Partial<Record<ErrorCode, string>> = {
  stream_interrupted: 'Part of the answer was delivered (see `delivered`); retry the request, or continue from what arrived.',
  no_route: 'Add a route for this model in this environment (or an `otherwise` use case), then reload the config.',
  all_deployments_failed: 'Every vendor failed; retry after a short wait, and check `switchyard status` for open deployments.',
  deadline_exceeded: 'Allow a longer deadline, or retry.',
  retry_budget_exhausted: 'The router is protecting vendors from a retry storm; retry after a short wait.',
  router_draining: 'This router node is shutting down; send the request to another node.',
  rate_limited: 'Slow down: wait `retryAfterMs` before retrying, or ask for a larger pool share or tenant maxShare.',
  handed_back: 'Send the request again: another router node has room for it.',
  overloaded: 'This router node is full; retry after `retryAfterMs` (another node may take it), or add router nodes.',
  cancelled: 'The request was cancelled by its caller.',
  invalid_request: 'Fix the field named in `field` and send the request again; no vendor was called.',
  credentials_missing: "Set the credential the message names in the router's environment (or the file the config names) and restart the node.",
};

/**
 * How any request fails, the one shape from the request machine through the reply protocol to the
 * client: a stable code, whether trying again may help, and what the caller already received.
 */
export interface Failure {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  retryAfterMs?: number | undefined;
  /** What a stream delivered before it broke. */
  delivered?: string | undefined;
  /** The offending field, for invalid requests. */
  field?: string | undefined;
  /** For `handed_back`: a router node with room for the request. */
  peer?: string | undefined;
}

/** A routed request that ended without an answer; `code` says why, `delivered` what arrived before. */
export class RequestFailedError extends SwitchyardError implements Failure {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly delivered: string | undefined;
  readonly field: string | undefined;
  readonly peer: string | undefined;

  constructor(failure: Failure) {
    super(failure.message, REQUEST_HINTS[failure.code] ?? 'See the code and message; the vendor error policy decided this request cannot succeed as sent.');
    this.code = failure.code;
    this.retryable = failure.retryable;
    this.retryAfterMs = failure.retryAfterMs;
    this.delivered = failure.delivered;
    this.field = failure.field;
    this.peer = failure.peer;
  }
}

/**
 * A request that cannot be served as sent, found before any vendor was called or by an adapter
 * translating it: never retried on another deployment, never counted against a vendor.
 */
export class InvalidRequestError extends SwitchyardError {
  readonly code = ErrorCode.InvalidRequest;
  readonly retryable = false;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`, REQUEST_HINTS.invalid_request ?? '');
  }
}

/**
 * A credential the config names for a vendor-region is not there. Our own configuration's fault:
 * the vendor-region is unusable until it is set, and the request fails over to another one.
 */
export class CredentialsMissingError extends SwitchyardError {
  readonly code = ErrorCode.CredentialsMissing;
  readonly retryable = true;
  constructor(
    readonly vendorRegion: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${vendorRegion}: ${message}`, REQUEST_HINTS.credentials_missing ?? '', options);
  }
}
