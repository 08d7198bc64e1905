/**
 * client: the TypeScript client library applications use to send requests to router nodes over
 * NATS (docs/design.md §4-7): `complete`, `stream` as an async iterator, cancellation by
 * AbortSignal, deadlines, resends when no node acknowledges, replays of replies a NATS restart
 * lost, one retry on another node when the first goes silent before delivering, and typed errors
 * (no router listening, silence, protocol violations, invalid requests).
 * Imports src/domain and src/transport only.
 */
export { createClient } from './client.js';
export type {
  ClientConnection,
  ClientDefaults,
  ClientServers,
  CompleteResult,
  RequestOptions,
  ServedBy,
  StreamResult,
  SwitchyardClient,
  SwitchyardStream,
} from './client.js';
export { ClientError, ClientErrorCode } from './errors.js';
export type { ClientErrorDetails } from './errors.js';
