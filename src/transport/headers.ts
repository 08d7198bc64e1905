/** NATS header names, defined once: NATS headers are case-sensitive and must never be spelled ad hoc. */
export const Header = {
  Tenant: 'sy-tenant',
  Priority: 'sy-priority',
  /** The caller's deadline, in ms from when it sent the request. */
  DeadlineMs: 'sy-deadline-ms',
  RequestId: 'sy-request-id',
  /** `1` asks for a stream of events rather than one reply. */
  Stream: 'sy-stream',
  /** The caller's secret for this request; cancels and replay requests must carry it. */
  CallerToken: 'sy-caller-token',
  /** Node ids, comma-separated, that the caller has just seen fail: they decline the request. */
  AvoidNodes: 'sy-avoid-nodes',
  /** How many times nodes have handed this request back for want of room (protocol.ts). */
  Handbacks: 'sy-handbacks',
  /** On gossip: the sender's public NKey. */
  Signer: 'sy-signer',
  /** On gossip: Ed25519 signature (base64url) over the subject, a newline and the payload. */
  Signature: 'sy-signature',
} as const;
