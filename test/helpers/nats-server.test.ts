import { connect, type NatsConnection, type Status } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  freePort,
  startNatsCluster,
  startNatsServer,
  type NatsClusterHandle,
  type NatsServerHandle,
} from './nats-server.js';

// Everything a test opens is registered here so afterEach can tear it down even
// when an assertion throws halfway through.
const connections: NatsConnection[] = [];
const servers: NatsServerHandle[] = [];
const clusters: NatsClusterHandle[] = [];

afterEach(async () => {
  await Promise.allSettled(connections.splice(0).map((nc) => nc.close()));
  await Promise.allSettled([
    ...servers.splice(0).map((s) => s.stop()),
    ...clusters.splice(0).map((c) => c.stop()),
  ]);
});

async function open(opts: Parameters<typeof connect>[0]): Promise<NatsConnection> {
  const nc = await connect(opts);
  connections.push(nc);
  return nc;
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

describe('nats-server test helpers', () => {
  it('starts a single server that serves request/reply and stops accepting connections after stop()', async () => {
    const server = await startNatsServer();
    servers.push(server);
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);

    const nc = await open({ servers: server.url });
    nc.subscribe('echo', { callback: (_err, msg) => void msg.respond(msg.data) });
    await nc.flush();
    const reply = await nc.request('echo', 'ping', { timeout: 2_000 });
    expect(reply.string()).toBe('ping');

    await nc.close();
    await server.stop();
    await server.stop(); // idempotent
    await expect(connect({ servers: server.url, reconnect: false, timeout: 1_000 })).rejects.toThrow();
  });

  it('applies configText and jetstream options to the started server', async () => {
    const server = await startNatsServer({ jetstream: true, configText: 'max_payload: 4096\n' });
    servers.push(server);

    const nc = await open({ servers: server.url });
    expect(nc.info?.max_payload).toBe(4096);
    expect(nc.info?.jetstream).toBe(true);
  });

  it('explains how to install nats-server when the binary is missing', async () => {
    const previous = process.env.NATS_SERVER_BIN;
    process.env.NATS_SERVER_BIN = '/nonexistent/nats-server';
    try {
      await expect(startNatsServer()).rejects.toThrow(/apt-get install nats-server.*NATS_SERVER_BIN/s);
    } finally {
      if (previous === undefined) delete process.env.NATS_SERVER_BIN;
      else process.env.NATS_SERVER_BIN = previous;
    }
  });

  it('hands out distinct free ports', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    expect(new Set(ports).size).toBe(3);
  });

  it('routes a message published on member 2 to a subscriber on member 0 of a three-server cluster', async () => {
    const cluster = await startNatsCluster(3);
    clusters.push(cluster);
    expect(cluster.urls).toHaveLength(3);

    const sub = await open({ servers: cluster.urls[0] });
    const pub = await open({ servers: cluster.urls[2] });
    const received: string[] = [];
    sub.subscribe('routed', {
      callback: (_err, msg) => {
        received.push(msg.string());
      },
    });
    await sub.flush();

    // Interest crosses the route asynchronously; keep publishing until it has arrived.
    await waitFor(
      () => {
        pub.publish('routed', 'hello from member 2');
        return received.length > 0;
      },
      5_000,
      'a routed message',
    );
    expect(received[0]).toBe('hello from member 2');
  });

  it('keeps a publisher and a subscriber flowing when the publisher’s cluster member is killed', async () => {
    const cluster = await startNatsCluster(3);
    clusters.push(cluster);
    const memberIndexByPort = (port: number | undefined): number =>
      cluster.servers.findIndex((s) => s.port === port);

    const pub = await open({
      servers: cluster.urls,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      pingInterval: 500,
    });
    const pubIndex = memberIndexByPort(pub.info?.port);
    expect(pubIndex).toBeGreaterThanOrEqual(0);
    const subIndex = (pubIndex + 1) % 3;
    const sub = await open({ servers: cluster.urls[subIndex] });

    const events: Status[] = [];
    void (async () => {
      for await (const s of pub.status()) events.push(s);
    })();

    const seen = new Set<number>();
    sub.subscribe('seq', {
      callback: (_err, msg) => {
        seen.add(Number(msg.string()));
      },
    });
    await sub.flush();

    let sent = 0;
    let stopPublishing = false;
    const MAX_MESSAGES = 4_000; // bound: ~20 s at the pacing below, far past the test timeout
    const publishing = (async () => {
      while (!stopPublishing && sent < MAX_MESSAGES) {
        sent += 1;
        pub.publish('seq', String(sent));
        // Pacing also yields to the event loop so the client can notice the dead socket.
        await sleep(5);
      }
    })();

    try {
      await waitFor(() => seen.size >= 20, 5_000, 'the subscriber to receive 20 messages before the kill');
      const lastSentBeforeKill = sent;
      await cluster.killMember(pubIndex);

      await waitFor(() => events.some((e) => e.type === 'reconnect'), 10_000, "the publisher's reconnect event");
      const sentAtReconnect = sent;
      const newIndex = memberIndexByPort(pub.info?.port);
      expect(newIndex).toBeGreaterThanOrEqual(0);
      expect(newIndex).not.toBe(pubIndex);
      expect(pub.getServer()).toBe(`127.0.0.1:${cluster.servers[newIndex]?.port}`);

      const afterReconnect = (): number => [...seen].filter((n) => n > sentAtReconnect).length;
      await waitFor(() => afterReconnect() >= 50, 10_000, '50 messages published after the reconnect');

      stopPublishing = true;
      await publishing;
      await pub.flush();
      await waitFor(() => seen.has(sent), 5_000, 'the final message');

      const missingIn = (from: number, to: number): number => {
        let missing = 0;
        for (let n = from; n <= to; n++) if (!seen.has(n)) missing += 1;
        return missing;
      };
      console.log(
        `failover: killed member ${pubIndex}, publisher moved to member ${newIndex}; ` +
          `last seq before kill ${lastSentBeforeKill}, seq at reconnect ${sentAtReconnect}, final seq ${sent}; ` +
          `lost during switch ${missingIn(lastSentBeforeKill + 1, sent)} of ${sent - lastSentBeforeKill}, ` +
          `lost before kill ${missingIn(Math.min(...seen), lastSentBeforeKill)} (core NATS allows loss)`,
      );
      expect(afterReconnect()).toBeGreaterThanOrEqual(50);
      expect(seen.has(sent)).toBe(true);
    } finally {
      stopPublishing = true;
      await publishing;
    }
  });
});
