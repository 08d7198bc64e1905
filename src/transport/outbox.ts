/**
 * A router node's replies leave in one socket write per turn of the event loop. nats.js writes
 * once per microtask checkpoint, so replies published from separate callbacks (each vendor
 * chunk, each request read) each cost a write of their own: `writeBuffer` was 11.6 % of a
 * saturated node's time. Held until `setImmediate`, every reply of one turn goes out in one
 * write, a fraction of a millisecond later, in the order it was published. Whoever must not wait
 * (a request's acknowledgement) flushes at once.
 */
export class Outbox {
  private subjects: string[] = [];
  private bodies: string[] = [];
  private scheduled = false;

  constructor(private readonly send: (subject: string, data: string) => void) {}

  publish(subject: string, data: string): void {
    this.subjects.push(subject);
    this.bodies.push(data);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Sends whatever is held now (also before the connection closes). */
  readonly flush = (): void => {
    this.scheduled = false;
    const { subjects, bodies } = this;
    this.subjects = [];
    this.bodies = [];
    for (let i = 0; i < subjects.length; i++) {
      try {
        this.send(subjects[i]!, bodies[i]!);
      } catch {
        // Closed: the caller notices the silence and its client retries elsewhere.
      }
    }
  };
}
