/**
 * The application-facing client: `complete` for one answer, `stream` for events as they come.
 * Everything the node will check is checked here first (request shape, use case, header values),
 * so a bad request fails at the caller with the field named, and never costs a round trip.
 */
import { randomUUID } from 'node:crypto';
import { PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';
import { CanonicalRequestSchema, OTHERWISE, requestLimitError, type CanonicalRequestInput, type CanonicalResponse, type Priority, type StreamEvent } from '../domain/index.js';
import {
  closeNats,
  connectNats,
  DEFAULT_PREFIX,
  requestSubject,
  RequestHeadersSchema,
  useCaseOfRequestSubject,
  type NatsAuth,
  type NatsTls,
} from '../transport/index.js';
import { cancelledError, ClientError } from './errors.js';
import { exchange, type ExchangeControl, type ExchangeSpec, type ServedBy } from './exchange.js';
import { FailedNodes } from './failed-nodes.js';
import { ReplyInbox } from './inbox.js';

export type { ServedBy } from './exchange.js';

export interface ClientServers {
  servers: string[] | string;
  /** The connection's name as NATS monitoring shows it. */
  name?: string;
  auth?: NatsAuth;
  tls?: NatsTls;
}

/** The inbox prefix every client uses unless told otherwise (NATS's own). */
export const DEFAULT_INBOX_PREFIX = '_INBOX';

/** A connection the application owns; `close()` leaves it open. */
export interface ClientConnection {
  connection: NatsConnection;
}

export interface ClientDefaults {
  useCase?: string;
  tenant?: string;
  priority?: Priority;
  /** How long the node may stay silent (keepalives count) before the client acts; default 5000. */
  idleTimeoutMs?: number;
  /** How long to wait for any node to acknowledge a request before sending it again; default 300. */
  ackTimeoutMs?: number;
  /** Subject prefix of the deployment; default `sy`. */
  prefix?: string;
  /**
   * Where replies come, `_INBOX` by default. Give each application its own
   * (`_INBOX.conversation_serving`) and narrow its subscribe permission to it (docs/deployment.md).
   */
  inboxPrefix?: string;
}

export interface RequestOptions {
  useCase?: string;
  tenant?: string;
  priority?: Priority;
  /** Sent to the node, and bounds the client's own wait. */
  deadlineMs?: number;
  signal?: AbortSignal;
  /** 1-64 letters, digits, _ or -; generated when absent. A retry uses `<id>-r1`. */
  requestId?: string;
}

export interface CompleteResult {
  response: CanonicalResponse;
  servedBy: ServedBy;
  /** The id the answer came back under (the retry's id when there was one). */
  requestId: string;
}

export interface StreamResult {
  servedBy: ServedBy;
  requestId: string;
}

/**
 * Events in order; iterating starts the request, breaking out of the loop cancels it, and a
 * failure is thrown by the iterator. `result` settles once the stream has been read to its end.
 */
export interface SwitchyardStream extends AsyncIterable<StreamEvent> {
  readonly result: Promise<StreamResult>;
  /** Who began the answer, once its `start` event has been read (a resume may finish it elsewhere; `result` says). */
  readonly startedBy: ServedBy | undefined;
}

export interface SwitchyardClient {
  complete(request: CanonicalRequestInput, options?: RequestOptions): Promise<CompleteResult>;
  stream(request: CanonicalRequestInput, options?: RequestOptions): SwitchyardStream;
  /** Cancels requests in flight; closes the NATS connection only when the client opened it. */
  close(): Promise<void>;
}

const DEFAULT_IDLE_TIMEOUT_MS = 5_000;
const DEFAULT_ACK_TIMEOUT_MS = 300;

interface Timing {
  idleTimeoutMs: number;
  ackTimeoutMs: number;
}

export async function createClient(options: ClientServers | ClientConnection, defaults: ClientDefaults = {}): Promise<SwitchyardClient> {
  const timing = { idleTimeoutMs: defaults.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, ackTimeoutMs: defaults.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS };
  for (const [field, value] of Object.entries(timing)) {
    if (!Number.isInteger(value) || value <= 0) throw new ClientError('invalid_request', `${field} must be a positive whole number of ms, got ${value}`, { field, retryable: false });
  }
  const inboxPrefix = defaults.inboxPrefix ?? DEFAULT_INBOX_PREFIX;
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(inboxPrefix)) {
    throw new ClientError('invalid_request', `inboxPrefix "${inboxPrefix}" is not a subject prefix: use tokens of letters, digits, _ and - joined by dots`, { field: 'inboxPrefix', retryable: false });
  }
  if ('connection' in options) return new Client(options.connection, false, defaults, timing);
  const servers = typeof options.servers === 'string' ? options.servers.split(',').map((s) => s.trim()).filter(Boolean) : options.servers;
  const nc = await connectNats({ servers, name: options.name ?? 'switchyard-client', ...(options.auth ? { auth: options.auth } : {}), tls: options.tls });
  return new Client(nc, true, defaults, timing);
}

class Client implements SwitchyardClient {
  /** Every open request, with the subject it was published on, so a permission refusal reaches the right ones. */
  private readonly open = new Map<ExchangeControl, string>();
  private readonly failedNodes = new FailedNodes();
  /** Set once NATS refused a request addressed to one node (`sy.req.<usecase>.<node>`): hand-backs then go to the queue group. */
  private directRefused = false;
  private inbox: ReplyInbox | undefined;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly owned: boolean,
    private readonly defaults: ClientDefaults,
    private readonly timing: Timing,
  ) {
    void this.watchConnection();
  }

  /**
   * NATS refuses a publish the account may not make by an asynchronous error on the connection,
   * not on the publish; without this the request would only show up as silence. And while the
   * connection is down, no request may take the silence for a dead node.
   */
  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') for (const control of this.open.keys()) control.pause();
      if (status.type === 'reconnect') for (const control of this.open.keys()) control.resume();
      if (status.type !== 'error' || !(status.error instanceof PermissionViolationError) || status.error.operation !== 'publish') continue;
      const refused = status.error.subject;
      if ([...this.open.values()].some((subject) => refused.startsWith(`${subject}.`))) this.directRefused = true;
      for (const [control, subject] of [...this.open]) {
        if (subject === refused) control.stop(new ClientError('not_permitted', `NATS refused this client's request on ${subject}: its account may not publish there`, { retryable: false }));
      }
    }
  }

  async complete(request: CanonicalRequestInput, options: RequestOptions = {}): Promise<CompleteResult> {
    for await (const item of exchange(this.prepare(request, options, false))) {
      if (item.kind === 'result') return { response: item.reply.response, servedBy: item.reply.servedBy, requestId: item.requestId };
    }
    // exchange() ends only after a result or by throwing; this is a guard, not a path.
    throw new ClientError('router_protocol', 'the request ended without a result', { retryable: false });
  }

  stream(request: CanonicalRequestInput, options: RequestOptions = {}): SwitchyardStream {
    let settle: { resolve: (r: StreamResult) => void; reject: (e: unknown) => void } | undefined;
    const result = new Promise<StreamResult>((resolve, reject) => (settle = { resolve, reject }));
    // Readers who only iterate must not see an unhandled rejection; awaiting `result` still throws.
    result.catch(() => undefined);
    const prepare = (): ExchangeSpec => this.prepare(request, options, true);
    let startedBy: ServedBy | undefined;
    async function* run(): AsyncGenerator<StreamEvent, void, undefined> {
      try {
        for await (const item of exchange(prepare())) {
          if (item.kind !== 'event') continue;
          if (item.event.type === 'start') startedBy = item.servedBy;
          // Settled before the end event is handed over, so a reader may stop right at it.
          if (item.event.type === 'end') {
            // The events are whole without servedBy, so only `result` reports the node's slip.
            if (item.servedBy) settle?.resolve({ servedBy: item.servedBy, requestId: item.requestId });
            else settle?.reject(new ClientError('router_protocol', `request ${item.requestId}: the end event carries no servedBy`, { retryable: false }));
            settle = undefined;
          }
          yield item.event;
        }
      } catch (err) {
        settle?.reject(err);
        settle = undefined;
        throw err;
      } finally {
        // Only a stream left early is still unsettled here: no error is made for one that ended.
        settle?.reject(cancelledError(undefined, 'the stream was left before its end'));
      }
    }
    let iterator: AsyncGenerator<StreamEvent, void, undefined> | undefined;
    return {
      result,
      get startedBy() {
        return startedBy;
      },
      [Symbol.asyncIterator]: () => (iterator ??= run()),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const control of [...this.open.keys()]) control.stop(cancelledError(undefined, 'the client was closed'));
    this.inbox?.close();
    if (this.owned && !this.nc.isClosed()) await closeNats(this.nc);
  }

  private prepare(request: CanonicalRequestInput, options: RequestOptions, stream: boolean): ExchangeSpec {
    if (this.closed) throw new ClientError('router_unavailable', 'the Switchyard client is closed', { retryable: false });
    const prefix = this.defaults.prefix ?? DEFAULT_PREFIX;
    // As the CLI does: a caller that names no use case speaks as the catch-all.
    const useCase = options.useCase ?? this.defaults.useCase ?? OTHERWISE;
    let subject: string;
    try {
      subject = requestSubject(useCase, prefix);
    } catch {
      subject = '';
    }
    // The node reads the use case back from the subject with this parser; refuse what it would not read.
    if (!subject || useCaseOfRequestSubject(subject, prefix) !== useCase) {
      throw invalid('useCase', `use case "${useCase}" is not valid: use lowercase letters, digits, _ and -`);
    }
    const body = CanonicalRequestSchema.safeParse(request);
    if (!body.success) throw invalidFrom('request', body.error.issues[0]);
    const payload = new TextEncoder().encode(JSON.stringify(body.data));
    const limits = requestLimitError(payload);
    if (limits) throw invalid(`request.${limits.field ?? 'body'}`, `request ${limits.message}`);
    const headers = RequestHeadersSchema.safeParse({
      tenant: options.tenant ?? this.defaults.tenant,
      priority: options.priority ?? this.defaults.priority,
      deadlineMs: options.deadlineMs,
      requestId: options.requestId,
    });
    if (!headers.success) throw invalidFrom('', headers.error.issues[0]);
    this.inbox ??= new ReplyInbox(this.nc, this.defaults.inboxPrefix ?? DEFAULT_INBOX_PREFIX);
    return {
      nc: this.nc,
      inbox: this.inbox,
      prefix,
      subject,
      useCase,
      mayDirect: () => !this.directRefused,
      payload,
      stream,
      requestId: headers.data.requestId ?? randomUUID(),
      tenant: headers.data.tenant,
      priority: headers.data.priority,
      deadlineMs: headers.data.deadlineMs,
      ...this.timing,
      signal: options.signal,
      failedNodes: this.failedNodes,
      track: (control) => {
        this.open.set(control, subject);
        return () => this.open.delete(control);
      },
    };
  }
}

function invalid(field: string, message: string): ClientError {
  return new ClientError('invalid_request', message, { field, retryable: false });
}

function invalidFrom(root: string, issue: { path: PropertyKey[]; message: string } | undefined): ClientError {
  const path = [root, ...(issue?.path ?? []).map(String)].filter(Boolean).join('.');
  return invalid(path || root, `${path || 'request'}: ${issue?.message ?? 'invalid'}`);
}
