/**
 * Reading a request off the bus: its use case from the subject, its headers, and its canonical
 * body, in the order that costs a hostile message least: headers, then size and nesting by a scan
 * of the bytes, then JSON, then the schema. Anything wrong gets `invalid_request` naming the field.
 */
import type { MsgHdrs } from '@nats-io/transport-node';
import { CanonicalRequestSchema, ErrorCode, requestLimitError, type CanonicalRequest, type Failure } from '../domain/index.js';
import { Header } from './headers.js';
import { RequestHeadersSchema, type RequestHeaders } from './protocol.js';
import { DEFAULT_PREFIX, useCaseOfRequestSubject } from './subjects.js';

export type RequestIntake = { request: CanonicalRequest; head: RequestHeaders; useCase: string } | { error: Failure; head?: RequestHeaders };

export interface RequestMessage {
  subject: string;
  headers?: MsgHdrs | undefined;
  data: Uint8Array;
}

const decoder = new TextDecoder();

const invalid = (field: string, message: string): Failure => ({ code: ErrorCode.InvalidRequest, message, retryable: false, field });

export function readRequest(msg: RequestMessage, prefix = DEFAULT_PREFIX): RequestIntake {
  const useCase = useCaseOfRequestSubject(msg.subject, prefix);
  if (!useCase) return { error: invalid('subject', `subject "${msg.subject}" names no use case`) };
  const get = (name: string) => msg.headers?.get(name) || undefined;
  const head = RequestHeadersSchema.safeParse({
    tenant: get(Header.Tenant),
    priority: get(Header.Priority),
    deadlineMs: get(Header.DeadlineMs),
    requestId: get(Header.RequestId),
    stream: get(Header.Stream),
    callerToken: get(Header.CallerToken),
    avoidNodes: get(Header.AvoidNodes),
    handbacks: get(Header.Handbacks),
  });
  if (!head.success) {
    const issue = head.error.issues[0];
    const field = `header ${String(issue?.path[0] ?? '')}`;
    return { error: invalid(field, `${field}: ${issue?.message ?? 'invalid'}`) };
  }
  // Size and nesting before parsing: a 20,000-deep schema must cost a scan, not a parse and a retry loop.
  const limits = requestLimitError(msg.data);
  if (limits) return { error: limits, head: head.data };
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(msg.data));
  } catch {
    return { error: invalid('body', 'body: not JSON; send a canonical request'), head: head.data };
  }
  const body = CanonicalRequestSchema.safeParse(json);
  if (!body.success) {
    const issue = body.error.issues[0];
    const field = issue?.path.map(String).join('.') || 'body';
    return { error: invalid(field, `${field}: ${issue?.message ?? 'invalid'}`), head: head.data };
  }
  return { request: body.data, head: head.data, useCase };
}
