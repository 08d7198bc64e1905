/**
 * The in-house ADR-32 ("micro") responder against a real nats-server: which `$SRV` subjects each
 * instance answers, and that every response carries exactly the field names ADR-32 defines, since
 * `nats micro` and the other language clients decode those names and nothing else.
 */
import { connect, NoRespondersError, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startServiceResponder,
  type InfoResponse,
  type PingResponse,
  type ServiceResponder,
  type ServiceSpec,
  type StatsResponse,
} from '../../src/transport/service.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';

// Field names copied from ADR-32 (nats-architecture-and-design, adr/ADR-32.md): "Standard Field",
// "INFO" + EndpointInfo, "STATS" + EndpointStats. Sorted, to compare with Object.keys(...).sort().
const STANDARD_FIELDS = ['id', 'metadata', 'name', 'type', 'version'];
const INFO_FIELDS = [...STANDARD_FIELDS, 'description', 'endpoints'].sort();
const INFO_ENDPOINT_FIELDS = ['metadata', 'name', 'queue_group', 'subject'];
const STATS_FIELDS = [...STANDARD_FIELDS, 'endpoints', 'started'].sort();
const STATS_ENDPOINT_FIELDS = [
  'average_processing_time',
  'last_error',
  'name',
  'num_errors',
  'num_requests',
  'processing_time',
  'queue_group',
  'subject',
];
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const NAME = 'sy-router';

function spec(id: string, overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name: NAME,
    id,
    version: '1.4.0-rc.1+build.7',
    description: 'Switchyard router node',
    metadata: { region: 'eu-west-1' },
    endpoints: [
      { name: 'complete', subject: 'sy.req.chat', queueGroup: 'sy-routers' },
      { name: 'stream', subject: 'sy.req.stream', queueGroup: 'sy-routers', metadata: { format: 'sse' } },
      { name: 'direct', subject: 'sy.node.n1.req' },
    ],
    ...overrides,
  };
}

let server: NatsServerHandle;
const connections: NatsConnection[] = [];
const responders: ServiceResponder[] = [];

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server.stop();
});
// Registered as they open, so a failed assertion still leaves nothing subscribed or connected.
afterEach(async () => {
  await Promise.allSettled(responders.splice(0).map((r) => r.stop()));
  await Promise.allSettled(connections.splice(0).map((nc) => nc.close()));
});

async function open(): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url });
  connections.push(nc);
  return nc;
}

async function start(nc: NatsConnection, s: ServiceSpec, options?: Parameters<typeof startServiceResponder>[2]) {
  const responder = startServiceResponder(nc, s, options);
  responders.push(responder);
  // The subscriptions must reach the server before another connection asks.
  await nc.flush();
  return responder;
}

/** Every reply to one request on `subject`; no responders at all counts as zero replies. */
async function collect(nc: NatsConnection, subject: string): Promise<Msg[]> {
  const replies: Msg[] = [];
  try {
    const it = await nc.requestMany(subject, '', { strategy: 'stall', maxWait: 2_000, stall: 500 });
    for await (const msg of it) replies.push(msg);
  } catch (err) {
    // requestMany surfaces the server's 503 as a bare NoRespondersError, not a RequestError.
    if (!(err instanceof NoRespondersError)) throw err;
  }
  return replies;
}

const keys = (o: object): string[] => Object.keys(o).sort();
const ids = (replies: Msg[]): string[] => replies.map((m) => m.json<PingResponse>().id).sort();

describe('startServiceResponder', () => {
  it('answers $SRV.PING from every instance, $SRV.PING.<name> by name and $SRV.PING.<name>.<id> from one', async () => {
    const [ncA, ncB, client] = [await open(), await open(), await open()];
    await start(ncA, spec('node-a'));
    await start(ncB, spec('node-b'));
    await start(ncB, spec('other-1', { name: 'other-svc' }));

    expect(ids(await collect(client, '$SRV.PING'))).toEqual(['node-a', 'node-b', 'other-1']);
    expect(ids(await collect(client, `$SRV.PING.${NAME}`))).toEqual(['node-a', 'node-b']);
    const one = await collect(client, `$SRV.PING.${NAME}.node-b`);
    expect(ids(one)).toEqual(['node-b']);

    const ping = one[0]!.json<PingResponse>();
    expect(keys(ping)).toEqual(STANDARD_FIELDS);
    expect(ping).toEqual({
      type: 'io.nats.micro.v1.ping_response',
      name: NAME,
      id: 'node-b',
      version: '1.4.0-rc.1+build.7',
      metadata: { region: 'eu-west-1' },
    });
  });

  it('answers $SRV.INFO with the endpoints, their subjects and queue groups', async () => {
    const client = await open();
    await start(await open(), spec('node-a'));

    for (const subject of ['$SRV.INFO', `$SRV.INFO.${NAME}`, `$SRV.INFO.${NAME}.node-a`]) {
      const replies = await collect(client, subject);
      expect(replies).toHaveLength(1);
      const info = replies[0]!.json<InfoResponse>();
      expect(keys(info)).toEqual(INFO_FIELDS);
      for (const e of info.endpoints) expect(keys(e)).toEqual(INFO_ENDPOINT_FIELDS);
      expect(info).toEqual({
        type: 'io.nats.micro.v1.info_response',
        name: NAME,
        id: 'node-a',
        version: '1.4.0-rc.1+build.7',
        metadata: { region: 'eu-west-1' },
        description: 'Switchyard router node',
        endpoints: [
          { name: 'complete', subject: 'sy.req.chat', queue_group: 'sy-routers', metadata: {} },
          { name: 'stream', subject: 'sy.req.stream', queue_group: 'sy-routers', metadata: { format: 'sse' } },
          { name: 'direct', subject: 'sy.node.n1.req', queue_group: '', metadata: {} },
        ],
      });
    }
  });

  it('answers $SRV.STATS with recorded requests, errors and processing times in whole nanoseconds', async () => {
    const client = await open();
    const before = Date.now();
    const responder = await start(await open(), spec('node-a'));
    responder.record('complete', 1_000);
    responder.record('complete', 2_001, 'vendor timeout');
    responder.record('complete', 4_000.6);
    responder.record('stream', 500, 'first error');
    responder.record('stream', 700, 'second error');

    const replies = await collect(client, `$SRV.STATS.${NAME}.node-a`);
    expect(replies).toHaveLength(1);
    const stats = replies[0]!.json<StatsResponse>();
    expect(keys(stats)).toEqual(STATS_FIELDS);
    for (const e of stats.endpoints) expect(keys(e)).toEqual(STATS_ENDPOINT_FIELDS);
    expect(stats.type).toBe('io.nats.micro.v1.stats_response');
    expect([stats.name, stats.id, stats.version]).toEqual([NAME, 'node-a', '1.4.0-rc.1+build.7']);
    expect(stats.metadata).toEqual({ region: 'eu-west-1' });
    expect(stats.started).toMatch(RFC3339);
    expect(Date.parse(stats.started)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(stats.started)).toBeLessThanOrEqual(Date.now());
    expect(stats.endpoints).toEqual([
      {
        name: 'complete',
        subject: 'sy.req.chat',
        queue_group: 'sy-routers',
        num_requests: 3,
        num_errors: 1,
        processing_time: 7_002,
        average_processing_time: 2_334,
        last_error: 'vendor timeout',
      },
      {
        name: 'stream',
        subject: 'sy.req.stream',
        queue_group: 'sy-routers',
        num_requests: 2,
        num_errors: 2,
        processing_time: 1_200,
        average_processing_time: 600,
        last_error: 'second error',
      },
      {
        name: 'direct',
        subject: 'sy.node.n1.req',
        queue_group: '',
        num_requests: 0,
        num_errors: 0,
        processing_time: 0,
        average_processing_time: 0,
        last_error: '',
      },
    ]);
    // The generic and by-name subjects give the same counters.
    for (const subject of ['$SRV.STATS', `$SRV.STATS.${NAME}`]) {
      const [reply] = await collect(client, subject);
      expect(reply!.json<StatsResponse>().endpoints).toEqual(stats.endpoints);
    }
  });

  it('puts the info() data, fetched per request, into each INFO and STATS endpoint', async () => {
    const client = await open();
    let calls = 0;
    await start(await open(), spec('node-a'), { info: () => ({ node: 'n1', calls: ++calls }) });

    const [info] = await collect(client, '$SRV.INFO');
    expect(info!.json<InfoResponse>().endpoints.map((e) => e.data)).toEqual(Array(3).fill({ node: 'n1', calls: 1 }));
    const [stats] = await collect(client, '$SRV.STATS');
    expect(stats!.json<StatsResponse>().endpoints.map((e) => e.data)).toEqual(Array(3).fill({ node: 'n1', calls: 2 }));
    const [ping] = await collect(client, '$SRV.PING');
    expect(keys(ping!.json<PingResponse>())).toEqual(STANDARD_FIELDS);
  });

  it('answers with the Nats-Service-Error headers when info() throws', async () => {
    const client = await open();
    await start(await open(), spec('node-a'), {
      info: () => {
        throw new Error('capacity table unavailable');
      },
    });

    const [reply] = await collect(client, '$SRV.STATS');
    expect(reply!.headers?.get('Nats-Service-Error')).toBe('capacity table unavailable');
    expect(reply!.headers?.get('Nats-Service-Error-Code')).toBe('500');
  });

  it('rejects an invalid name, id or version with an error naming the field', async () => {
    const nc = await open();
    const bad: [Partial<ServiceSpec>, RegExp][] = [
      [{ name: 'sy.router' }, /invalid service name "sy\.router"/],
      [{ name: 'sy router' }, /invalid service name/],
      [{ name: '' }, /invalid service name/],
      [{ id: 'a.b' }, /invalid service id "a\.b"/],
      [{ version: '1.0' }, /invalid service version "1\.0"/],
      [{ version: 'v1.0.0' }, /invalid service version/],
      [{ version: '01.0.0' }, /invalid service version/],
      [{ endpoints: [{ name: 'a', subject: 'x' }, { name: 'a', subject: 'y' }] }, /duplicate endpoint name "a"/],
      [{ endpoints: [{ name: 'a', subject: 'has space' }] }, /invalid subject "has space"/],
    ];
    for (const [overrides, message] of bad) {
      expect(() => startServiceResponder(nc, spec('node-a', overrides))).toThrow(message);
    }
    // Nothing was subscribed by the failed attempts.
    expect(await collect(await open(), '$SRV.PING')).toEqual([]);

    const responder = await start(nc, spec('node-a'));
    expect(() => responder.record('nope', 1)).toThrow(/unknown endpoint "nope"/);
    expect(() => responder.record('complete', -1)).toThrow(RangeError);
    expect(() => responder.record('complete', Number.NaN)).toThrow(RangeError);
  });

  it('stops answering every $SRV subject after stop()', async () => {
    const client = await open();
    const nc = await open();
    const responder = await start(nc, spec('node-a'));
    const subjects = ['PING', 'INFO', 'STATS'].flatMap((v) => [`$SRV.${v}`, `$SRV.${v}.${NAME}`, `$SRV.${v}.${NAME}.node-a`]);

    for (const subject of subjects) expect(await collect(client, subject), subject).toHaveLength(1);
    await responder.stop();
    await responder.stop(); // idempotent
    await nc.flush();
    for (const subject of subjects) expect(await collect(client, subject), subject).toEqual([]);

    // Stopping after the connection has closed resolves rather than rejecting.
    const late = await start(nc, spec('node-b'));
    await nc.close();
    await expect(late.stop()).resolves.toBeUndefined();
  });
});
