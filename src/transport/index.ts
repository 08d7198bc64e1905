/**
 * transport: how Switchyard talks over NATS: subjects (built and parsed only here), header names,
 * the request/reply protocol's message schemas, connecting with credentials and TLS, and the
 * NATS service ($SRV) responder. Imports src/domain, src/config, src/observability.
 */
export * from './subjects.js';
export { Header } from './headers.js';
export {
  CallerTokenSchema,
  CancelSchema,
  DrainCommandSchema,
  KEEPALIVE_MS,
  MAX_AVOIDED_NODES,
  MAX_HANDBACKS,
  ReplayRequestSchema,
  ReplyErrorSchema,
  ReplySchema,
  RequestHeadersSchema,
  ServedBySchema,
  TOKEN_ID,
} from './protocol.js';
export type { DataBody, DataReply, Reply, ReplyError, ReplyEvent, RequestHeaders } from './protocol.js';
export { Outbox } from './outbox.js';
export { DEFAULT_REPLY_LOG_LIMIT, ReplyLog, declineMessage } from './reply-log.js';
export type { Publish } from './reply-log.js';
export { DEFAULT_REPLY_PREFIXES, isInboxSubject } from './reply-guard.js';
export { closeNats, connectNats, connectNatsPatiently, logConnection, natsFromEnvironment, NatsUnreachableError } from './connect.js';
export type { NatsAuth, NatsOptions, NatsTls } from './connect.js';
export { ROUTER_SERVICE_NAME, SERVICE_API_PREFIX, startServiceResponder } from './service.js';
export type { ServiceResponder, ServiceSpec } from './service.js';
export { readRequest } from './request-intake.js';
export { randomToken } from './tokens.js';
export type { RequestIntake, RequestMessage } from './request-intake.js';
export { generateSigner, signerFromSeed, TrustedRouters } from './gossip-signing.js';
export type { GossipSigner, Verdict } from './gossip-signing.js';
export { DEFAULT_PLAUSIBILITY, implausibleDigest, implausibleHeartbeat } from './gossip-plausibility.js';
export type { PlausibilityLimits } from './gossip-plausibility.js';
