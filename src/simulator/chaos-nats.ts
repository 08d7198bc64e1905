/**
 * Faults over NATS: `sy.chaos.<vendor>.<region>` carries a fault (its kind, duration, and optional
 * model) for that vendor-region; a request gets `{ id }` or `{ error }` back naming the field.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { chaosWildcard, closeNats, connectNats, isInboxSubject, vendorRegionOfChaosSubject, type NatsAuth, type NatsTls } from '../transport/index.js';
import { addFault } from './admin.js';
import type { SimulatedFleet } from './server.js';

export interface ChaosListener {
  connection: NatsConnection;
  close(): Promise<void>;
}

export async function listenForChaos(
  fleet: SimulatedFleet,
  options: { servers: string[]; prefix?: string; auth?: NatsAuth; tls?: NatsTls | undefined },
): Promise<ChaosListener> {
  const connection = await connectNats({ servers: options.servers, name: 'switchyard-simulator', auth: options.auth, tls: options.tls, waitForServer: true });
  const subscription = connection.subscribe(chaosWildcard(options.prefix));
  void (async () => {
    for await (const message of subscription) {
      const vendorRegion = vendorRegionOfChaosSubject(message.subject, options.prefix);
      let reply: { id: string } | { error: string };
      if (!vendorRegion) {
        reply = { error: `subject: "${message.subject}" names no vendor-region; use ${options.prefix ?? 'sy'}.chaos.<vendor>.<region>` };
      } else {
        let body: unknown;
        try {
          body = message.data.length === 0 ? {} : message.json();
        } catch {
          body = undefined;
        }
        const result = typeof body === 'object' && body !== null ? addFault(fleet, { ...body, vendorRegion }) : { ok: false as const, error: 'body: expected a JSON object' };
        reply = result.ok ? { id: result.id } : { error: result.error };
      }
      // Acknowledgements go to inboxes only, so no fault message can make the simulator publish elsewhere.
      if (isInboxSubject(message.reply)) message.respond(JSON.stringify(reply));
    }
  })();
  return {
    connection,
    async close() {
      await closeNats(connection);
    },
  };
}
