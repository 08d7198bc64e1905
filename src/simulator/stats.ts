/** What the simulator saw, per deployment, so tests and operators can check what reached the "vendor". */
export interface DeploymentStats {
  requests: number;
  rateLimited: number;
  refusedByFault: number;
  streams: number;
  /** Streams or responses the client closed before the end: proves cancellation reached upstream. */
  closedByClient: number;
  lastClosedByClientAt?: number;
}

type Counter = 'requests' | 'rateLimited' | 'refusedByFault' | 'streams';

export class SimulatorStats {
  private readonly byDeployment = new Map<string, DeploymentStats>();

  private of(deployment: string): DeploymentStats {
    let stats = this.byDeployment.get(deployment);
    if (!stats) {
      stats = { requests: 0, rateLimited: 0, refusedByFault: 0, streams: 0, closedByClient: 0 };
      this.byDeployment.set(deployment, stats);
    }
    return stats;
  }

  count(deployment: string, counter: Counter): void {
    this.of(deployment)[counter]++;
  }

  closedByClient(deployment: string): void {
    const stats = this.of(deployment);
    stats.closedByClient++;
    stats.lastClosedByClientAt = Date.now();
  }

  snapshot(): Record<string, DeploymentStats> {
    return Object.fromEntries([...this.byDeployment].map(([k, v]) => [k, { ...v }]));
  }

  reset(): void {
    this.byDeployment.clear();
  }
}
