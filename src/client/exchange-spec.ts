/** What an exchange (exchange.ts) is given to send one request, and what it hands on. */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Priority, StreamEvent, SwitchyardError } from '../domain/index.js';
import type { DataReply } from '../transport/index.js';
import type { FailedNodes } from './failed-nodes.js';
import type { ReplyInbox } from './inbox.js';

export type ServedBy = Extract<DataReply, { kind: 'result' }>['servedBy'];

/** What the client can do to an exchange from outside: end it, or hold its timers while NATS is away. */
export interface ExchangeControl {
  stop(error: SwitchyardError): void;
  pause(): void;
  resume(): void;
}

export interface ExchangeSpec {
  nc: NatsConnection;
  inbox: ReplyInbox;
  prefix: string;
  /** The queue group's subject, `sy.req.<usecase>`. */
  subject: string;
  useCase: string;
  /** Whether this client may address a request to one node; false once NATS refused it the permission. */
  mayDirect: () => boolean;
  payload: Uint8Array;
  stream: boolean;
  requestId: string;
  tenant?: string | undefined;
  priority?: Priority | undefined;
  deadlineMs?: number | undefined;
  idleTimeoutMs: number;
  ackTimeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Nodes this client has just seen fail, shared by all its requests. */
  failedNodes: FailedNodes;
  /** Lets the client reach every open exchange; returns the unregister function. */
  track: (control: ExchangeControl) => () => void;
}

/** What an exchange hands on: a stream event, or the one result of a plain request. */
export type ExchangeItem =
  | { kind: 'event'; event: StreamEvent; servedBy?: ServedBy | undefined; requestId: string }
  | { kind: 'result'; reply: Extract<DataReply, { kind: 'result' }>; requestId: string };
