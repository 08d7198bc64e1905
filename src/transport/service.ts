/**
 * A responder for the NATS service protocol (ADR-32, "micro"): it answers `$SRV.PING`, `$SRV.INFO`
 * and `$SRV.STATS` (each also as `.<name>` and `.<name>.<id>`) so `nats micro ls|info|stats` and
 * any micro client see a router node like any other NATS service.
 *
 * In-house rather than `@nats-io/services`: that package is only published as a prerelease pinned
 * to an older `@nats-io/nats-core`, so installing it puts a second nats-core next to
 * transport-node's, and nats errors are matched with plain `instanceof`.
 *
 * It does not serve the endpoints: the router node subscribes its own request subjects (in its
 * queue group) and calls `record()` after each request; this module only reports them.
 */
import { headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** `$SRV.<VERB>`, `$SRV.<VERB>.<name>`, `$SRV.<VERB>.<name>.<id>` (ADR-32 "Discovery and Status"). */
export const SERVICE_API_PREFIX = '$SRV';

/** The service name every router node answers under, so tools and gateways find them all. */
export const ROUTER_SERVICE_NAME = 'switchyard';

export const ServiceVerb = { PING: 'PING', INFO: 'INFO', STATS: 'STATS' } as const;
export type ServiceVerb = (typeof ServiceVerb)[keyof typeof ServiceVerb];

export const ServiceResponseType = {
  PING: 'io.nats.micro.v1.ping_response',
  INFO: 'io.nats.micro.v1.info_response',
  STATS: 'io.nats.micro.v1.stats_response',
} as const;
export type ServiceResponseType = (typeof ServiceResponseType)[keyof typeof ServiceResponseType];

/** ADR-32's error header pair; used when answering a monitoring request fails. */
export const ServiceErrorHeader = 'Nats-Service-Error';
export const ServiceErrorCodeHeader = 'Nats-Service-Error-Code';

export interface ServiceEndpointSpec {
  /** Key for `record()`; must be unique within the service. */
  name: string;
  subject: string;
  /** The queue group the endpoint's subscription really uses; omit for a plain subscription. */
  queueGroup?: string;
  metadata?: Record<string, string>;
}

export interface ServiceSpec {
  /** The kind of service, shared by every instance: `^[-\w]+$`. */
  name: string;
  /** Unique per instance; a subject token, so `^[-\w]+$` too. */
  id: string;
  /** Semver. */
  version: string;
  description?: string;
  metadata?: Record<string, string>;
  endpoints: ServiceEndpointSpec[];
}

export interface ServiceResponderOptions {
  /** Called per INFO/STATS request; its result becomes each endpoint's `data`. */
  info?: () => Record<string, unknown>;
  /** Where answers may go (reply-guard.ts); a request with any other reply subject gets none. */
  replyAllowed?: (reply: string | undefined) => boolean;
  /** Told of each request refused for its reply subject. */
  onRefused?: (msg: Msg) => void;
}

/** The fields ADR-32 puts in every response. */
export interface ServiceIdentity {
  type: ServiceResponseType;
  name: string;
  id: string;
  version: string;
  metadata: Record<string, string>;
}

export interface ServiceEndpointInfo {
  name: string;
  subject: string;
  queue_group: string;
  metadata: Record<string, string>;
  data?: Record<string, unknown>;
}

export interface ServiceEndpointStats {
  name: string;
  subject: string;
  queue_group: string;
  num_requests: number;
  num_errors: number;
  /** Nanoseconds, summed over all requests. */
  processing_time: number;
  /** Nanoseconds, truncated; 0 before the first request. */
  average_processing_time: number;
  /** Empty until the first error. */
  last_error: string;
  data?: Record<string, unknown>;
}

export type PingResponse = ServiceIdentity;
export type InfoResponse = ServiceIdentity & { description: string; endpoints: ServiceEndpointInfo[] };
export type StatsResponse = ServiceIdentity & { started: string; endpoints: ServiceEndpointStats[] };

export interface ServiceResponder {
  readonly name: string;
  readonly id: string;
  /** Counts one request to `endpoint`; `error` marks it failed and becomes `last_error`. */
  record(endpoint: string, processingNs: number, error?: string): void;
  /** Drains the `$SRV` subscriptions. Idempotent. */
  stop(): Promise<void>;
}

const NAME = /^[-\w]+$/;
// The official semver.org regular expression, which ADR-32 asks implementations to use.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

function validate(spec: ServiceSpec): void {
  if (!NAME.test(spec.name)) throw new Error(`invalid service name "${spec.name}": must match ${NAME.source}`);
  if (!NAME.test(spec.id)) throw new Error(`invalid service id "${spec.id}": must match ${NAME.source}`);
  if (!SEMVER.test(spec.version)) throw new Error(`invalid service version "${spec.version}": must be semver (e.g. 1.2.3)`);
  const seen = new Set<string>();
  for (const e of spec.endpoints) {
    if (!NAME.test(e.name)) throw new Error(`invalid endpoint name "${e.name}": must match ${NAME.source}`);
    if (seen.has(e.name)) throw new Error(`duplicate endpoint name "${e.name}": record() needs unique names`);
    seen.add(e.name);
    if (!/^\S+$/.test(e.subject)) throw new Error(`invalid subject "${e.subject}" for endpoint "${e.name}"`);
    if (e.queueGroup !== undefined && !/^\S+$/.test(e.queueGroup)) {
      throw new Error(`invalid queueGroup "${e.queueGroup}" for endpoint "${e.name}"`);
    }
  }
}

interface Counters {
  num_requests: number;
  num_errors: number;
  processing_time: number;
  last_error: string;
}

export function startServiceResponder(
  nc: NatsConnection,
  spec: ServiceSpec,
  options: ServiceResponderOptions = {},
): ServiceResponder {
  validate(spec);
  // ADR-32: metadata is immutable once set, and always present in responses.
  const metadata = Object.freeze({ ...(spec.metadata ?? {}) });
  const endpoints = spec.endpoints.map((e) => ({
    info: {
      name: e.name,
      subject: e.subject,
      // nats.js reports a queue-less endpoint as "" too; reporting the library default "q" would lie.
      queue_group: e.queueGroup ?? '',
      metadata: Object.freeze({ ...(e.metadata ?? {}) }),
    } satisfies ServiceEndpointInfo,
    counters: { num_requests: 0, num_errors: 0, processing_time: 0, last_error: '' } satisfies Counters,
  }));
  const countersByName = new Map(endpoints.map((e) => [e.info.name, e.counters]));
  const started = new Date().toISOString();
  const identity = (type: ServiceResponseType): ServiceIdentity => ({
    type,
    name: spec.name,
    id: spec.id,
    version: spec.version,
    metadata,
  });
  // Called per request, so INFO and STATS show current values rather than those at startup.
  const withData = <T extends object>(entries: T[]): (T & { data?: Record<string, unknown> })[] => {
    if (!options.info) return entries;
    const data = options.info();
    return entries.map((e) => ({ ...e, data }));
  };

  const ping = JSON.stringify(identity(ServiceResponseType.PING) satisfies PingResponse);
  const answer: Record<ServiceVerb, () => string> = {
    PING: () => ping,
    INFO: () =>
      JSON.stringify({
        ...identity(ServiceResponseType.INFO),
        description: spec.description ?? '',
        endpoints: withData(endpoints.map((e) => e.info)),
      } satisfies InfoResponse),
    STATS: () =>
      JSON.stringify({
        ...identity(ServiceResponseType.STATS),
        started,
        endpoints: withData(
          endpoints.map(({ info, counters: c }): ServiceEndpointStats => {
            const average_processing_time = c.num_requests === 0 ? 0 : Math.trunc(c.processing_time / c.num_requests);
            const { name, subject, queue_group } = info;
            return { name, subject, queue_group, ...c, average_processing_time };
          }),
        ),
      } satisfies StatsResponse),
  };

  const respond = (verb: ServiceVerb, msg: Msg): void => {
    if (options.replyAllowed && !options.replyAllowed(msg.reply)) {
      options.onRefused?.(msg);
      return;
    }
    let body: string;
    try {
      body = answer[verb]();
    } catch (err) {
      // A failing info() must not leave the caller waiting for a timeout: answer with ADR-32's error headers.
      const h = headers();
      h.set(ServiceErrorHeader, err instanceof Error ? err.message : String(err));
      h.set(ServiceErrorCodeHeader, '500');
      msg.respond('', { headers: h });
      return;
    }
    msg.respond(body);
  };

  const subscriptions: Subscription[] = [];
  for (const verb of Object.values(ServiceVerb)) {
    const base = `${SERVICE_API_PREFIX}.${verb}`;
    for (const subject of [base, `${base}.${spec.name}`, `${base}.${spec.name}.${spec.id}`]) {
      // No queue group: discovery must reach every instance, not one per group.
      const sub = nc.subscribe(subject, {
        callback: (err, msg) => {
          // A subscription error (e.g. a permissions violation) carries no request to answer.
          if (!err) respond(verb, msg);
        },
      });
      subscriptions.push(sub);
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    name: spec.name,
    id: spec.id,
    record(endpoint, processingNs, error) {
      const c = countersByName.get(endpoint);
      if (!c) throw new Error(`unknown endpoint "${endpoint}" for service "${spec.name}"`);
      if (!Number.isFinite(processingNs) || processingNs < 0) {
        throw new RangeError(`processingNs must be a finite number >= 0, got ${processingNs}`);
      }
      c.num_requests++;
      // Go clients decode these as int64 and reject fractions, so keep nanoseconds whole.
      c.processing_time += Math.round(processingNs);
      if (error !== undefined) {
        c.num_errors++;
        c.last_error = error;
      }
    },
    stop() {
      // A closed connection has already dropped the subscriptions, and drain rejects only while the
      // connection itself closes or drains, which ends them too: either way nothing is left to stop.
      stopping ??= nc.isClosed()
        ? Promise.resolve()
        : Promise.allSettled(subscriptions.map((s) => s.drain())).then(() => undefined);
      return stopping;
    },
  };
}
