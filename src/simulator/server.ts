/**
 * The simulated vendors on loopback: one HTTP server per vendor-region of the config, each speaking
 * its vendor's protocol, plus faults that live below HTTP (connection refused, hang).
 */
import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { Vendor } from '../domain/index.js';
import type { VendorRegion } from '../config/index.js';
import { AccessTokens, createSimulatorCredentials, type SimulatorCredentials } from './credentials.js';
import { Simulation, type SimulationOptions } from './engine.js';
import type { ActiveFault } from './faults.js';
import { RequestLog } from './request-log.js';
import { sendJson, type ProtocolHandler } from './protocol.js';

/** The largest body a vendor accepts (Anthropic's limit); beyond it, 413 as the vendor's edge answers. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface VendorServerOptions {
  host: string;
  /** 0 for an ephemeral port. */
  port: number;
}

export class VendorServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private listening = false;
  private port: number;

  constructor(
    readonly vendorRegion: VendorRegion,
    private readonly handler: ProtocolHandler,
    private readonly context: { sim: Simulation; credentials: SimulatorCredentials; tokens: AccessTokens; log: RequestLog },
    private readonly options: VendorServerOptions,
  ) {
    this.port = options.port;
    // The AWS SDK speaks HTTP/2 (cleartext, prior knowledge) by default; the others HTTP/1.1.
    // Each connection goes to the server its first bytes ask for: HTTP/2 opens with "PRI ".
    const http1 = createHttp1Server((req, res) => void this.serve(req, res));
    const http2 = createHttp2Server((req, res) => void this.serve(req as unknown as IncomingMessage, res as unknown as ServerResponse));
    this.server = createTcpServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.once('readable', () => {
        const head = socket.read() as Buffer | null;
        if (head) socket.unshift(head);
        (head?.subarray(0, 4).toString('latin1') === 'PRI ' ? http2 : http1).emit('connection', socket);
      });
    });
  }

  get url(): string {
    return `http://${this.options.host === '0.0.0.0' ? '127.0.0.1' : this.options.host}:${this.port}`;
  }

  async listen(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    if (address && typeof address === 'object') this.port = address.port;
    this.listening = true;
  }

  /** Stops accepting and drops every open connection: what a dead endpoint looks like. */
  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Applies faults that live below HTTP: refused connections while a `refuse` outage is active. */
  async reconcile(active: readonly ActiveFault[]): Promise<void> {
    const refuse = active.some((a) => a.fault.kind === 'outage' && a.fault.mode === 'refuse' && a.fault.model === undefined && a.fault.vendorRegion === this.vendorRegion.id);
    if (refuse) await this.stop();
    else await this.listen();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', this.url);
    this.context.log.record(this.vendorRegion.id, req, url);
    if (body === undefined) {
      res.writeHead(413, { 'content-type': 'text/html' }).end('<html><body><h1>413 Request Entity Too Large</h1></body></html>');
      return;
    }
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    try {
      await this.handler({ req, res, url, body, vendorRegion: this.vendorRegion, clientGone: gone.signal, ...this.context });
    } catch (error) {
      // A bug in the simulator must not look like a vendor answer a test could pass on.
      if (!res.headersSent) sendJson(res, 599, { simulatorError: error instanceof Error ? error.message : String(error) });
      else res.destroy();
    }
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export interface FleetOptions extends SimulationOptions {
  host?: string;
  /** 0: every server on an ephemeral port; otherwise vendor-regions take port+1, port+2, ... in config order. */
  port?: number;
  handlers: Record<Vendor, ProtocolHandler>;
}

export interface SimulatedFleet {
  simulation: Simulation;
  credentials: SimulatorCredentials;
  tokens: AccessTokens;
  log: RequestLog;
  servers: VendorServer[];
  endpoints(): Record<string, string>;
  close(): Promise<void>;
}

export async function startFleet(options: FleetOptions): Promise<SimulatedFleet> {
  const simulation = new Simulation(options);
  const credentials = createSimulatorCredentials();
  const tokens = new AccessTokens();
  const log = new RequestLog();
  const host = options.host ?? '127.0.0.1';
  const base = options.port ?? 0;
  const servers = Object.values(options.config.vendorRegions).map(
    (vr, i) =>
      new VendorServer(vr, options.handlers[vr.vendor], { sim: simulation, credentials, tokens, log }, { host, port: base === 0 ? 0 : base + 1 + i }),
  );
  await Promise.all(servers.map((s) => s.listen()));

  // Faults below HTTP take effect when added and end when removed or expired.
  const expiryTimers = new Set<NodeJS.Timeout>();
  const reconcile = () => {
    const active = simulation.faults.list();
    for (const server of servers) void server.reconcile(active);
  };
  simulation.faults.subscribe((change) => {
    if (change.added) {
      const timer = setTimeout(() => {
        expiryTimers.delete(timer);
        reconcile();
      }, change.added.expiresAt - Date.now() + 5);
      timer.unref();
      expiryTimers.add(timer);
    }
    reconcile();
  });

  return {
    simulation,
    credentials,
    tokens,
    log,
    servers,
    endpoints: () => Object.fromEntries(servers.map((s) => [s.vendorRegion.id, s.url])),
    async close() {
      for (const timer of expiryTimers) clearTimeout(timer);
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
