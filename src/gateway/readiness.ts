/**
 * Whether the gateway can serve: connected to NATS, and at least one router node answers the
 * service ping (`$SRV.PING.switchyard`). Checked at most once a second however often a load
 * balancer asks, and concurrent asks share one check, so probes cannot load the bus.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { ROUTER_SERVICE_NAME, SERVICE_API_PREFIX } from '../transport/index.js';

export interface ReadinessReport {
  ready: boolean;
  nats: 'connected' | 'disconnected';
  routers: 'answering' | 'none answered';
}

const FRESH_MS = 1_000;
const PING_TIMEOUT_MS = 500;

export class Readiness {
  private last: { at: number; report: Promise<ReadinessReport> } | undefined;
  /** Off between a disconnect and the reconnect: a request then waits in the client's buffer, it does not fail. */
  private connected = true;

  constructor(private readonly nc: NatsConnection) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') this.connected = false;
        if (status.type === 'reconnect') this.connected = true;
      }
    })();
  }

  check(now = Date.now()): Promise<ReadinessReport> {
    if (this.last && now - this.last.at < FRESH_MS) return this.last.report;
    const report = this.probe();
    this.last = { at: now, report };
    return report;
  }

  private async probe(): Promise<ReadinessReport> {
    if (this.nc.isClosed() || !this.connected) return { ready: false, nats: 'disconnected', routers: 'none answered' };
    try {
      await this.nc.request(`${SERVICE_API_PREFIX}.PING.${ROUTER_SERVICE_NAME}`, undefined, { timeout: PING_TIMEOUT_MS });
      return { ready: true, nats: 'connected', routers: 'answering' };
    } catch {
      return { ready: false, nats: this.nc.isClosed() || !this.connected ? 'disconnected' : 'connected', routers: 'none answered' };
    }
  }
}
