/**
 * One reply subscription per client, `<inbox prefix>.<client token>.*`; each request's replies come
 * on `<...>.<request token>`, both tokens random, so nobody can guess where to aim. A message goes
 * to the request registered under its subject's last token, and only when it names that request:
 * anything else that reaches this inbox (another request's replies, sent here by a forged reply
 * subject) is counted and dropped, and never ends a request.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { randomToken, ReplySchema, type Reply } from '../transport/index.js';

export interface InboxListener {
  readonly requestId: string;
  reply(reply: Reply): void;
  /** A NATS status message on the inbox: 503 means nobody subscribes to the request subject. */
  status(msg: Msg): void;
  /** A message for this request that breaks the protocol. */
  malformed(what: string): void;
  /** The subscription itself ended (a permissions refusal, a closed connection). */
  closed(error: Error): void;
}

export class ReplyInbox {
  readonly base: string;
  private readonly listeners = new Map<string, InboxListener>();
  private readonly subscription: Subscription;
  /** Messages that reached this inbox for no request of ours. */
  foreign = 0;
  private failure: Error | undefined;

  constructor(nc: NatsConnection, prefix: string) {
    this.base = `${prefix}.${randomToken()}`;
    this.subscription = nc.subscribe(`${this.base}.*`, { callback: (error, msg) => (error ? this.fail(error) : this.onMessage(msg)) });
  }

  /** A reply subject for one request; `close` forgets it. Throws when the subscription has ended. */
  register(listener: InboxListener): { subject: string; close: () => void } {
    if (this.failure) throw this.failure;
    const token = randomToken();
    this.listeners.set(token, listener);
    return { subject: `${this.base}.${token}`, close: () => this.listeners.delete(token) };
  }

  close(): void {
    if (!this.subscription.isClosed()) this.subscription.unsubscribe();
  }

  private onMessage(msg: Msg): void {
    const listener = this.listeners.get(msg.subject.slice(this.base.length + 1));
    if (!listener) {
      this.foreign++;
      return;
    }
    if (msg.headers?.hasError) return listener.status(msg);
    let json: unknown;
    try {
      json = msg.json<unknown>();
    } catch {
      return listener.malformed('a reply that is not JSON');
    }
    const parsed = ReplySchema.safeParse(json);
    const id = typeof json === 'object' && json !== null && 'id' in json ? json.id : undefined;
    if (parsed.success ? parsed.data.id !== listener.requestId : id !== undefined && id !== listener.requestId) {
      this.foreign++;
      return;
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return listener.malformed(`a malformed reply (${where}${issue?.message ?? 'invalid'})`);
    }
    listener.reply(parsed.data);
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const listener of [...this.listeners.values()]) listener.closed(error);
    this.listeners.clear();
  }
}
