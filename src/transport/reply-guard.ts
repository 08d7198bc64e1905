/**
 * Where a node may send a reply. A node publishes wherever a message's reply subject points, so a
 * request whose reply subject is `sy.admin.drain.<node>` would make a node drain itself, and
 * NATS's `allow_responses` permits it. Replies therefore go only to subjects under an inbox prefix
 * (`_INBOX.` unless the deployment gives applications their own prefixes); anything else is
 * refused, counted and logged by the caller of this check.
 */
export const DEFAULT_REPLY_PREFIXES: readonly string[] = ['_INBOX.'];

const MAX_REPLY_SUBJECT = 256;

export function isInboxSubject(subject: string | undefined, prefixes: readonly string[] = DEFAULT_REPLY_PREFIXES): subject is string {
  if (!subject || subject.length > MAX_REPLY_SUBJECT) return false;
  if (!prefixes.some((p) => subject.startsWith(p) && subject.length > p.length)) return false;
  // A wildcard or whitespace in a reply subject is never an inbox NATS made.
  return !/[\s*>]/.test(subject);
}
