/**
 * transport: how Switchyard talks over NATS: subjects (built and parsed only here), header names,
 * the request/reply protocol's message schemas, connecting with credentials and TLS, and the
 * NATS service ($SRV) responder. Imports src/domain, src/config, src/observability.
 */
export * from './subjects.js';
export { Header } from './headers.js';
export { KEEPALIVE_MS, ReplyErrorSchema, ReplySchema, RequestHeadersSchema, ServedBySchema } from './protocol.js';
export type { Reply, ReplyBody, ReplyError, ReplyEvent, RequestHeaders } from './protocol.js';
export { closeNats, connectNats, natsFromEnvironment, NatsUnreachableError } from './connect.js';
export type { NatsAuth, NatsOptions, NatsTls } from './connect.js';
export { startServiceResponder } from './service.js';
export type { ServiceResponder, ServiceSpec } from './service.js';
