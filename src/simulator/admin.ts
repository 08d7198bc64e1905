/**
 * The simulator's control surface over HTTP: inject and clear faults, read what the simulated
 * vendors saw, fetch the test credentials, and the token endpoint of the simulated Google OAuth.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { FaultSchema } from './faults.js';
import { sendJson } from './protocol.js';
import type { SimulatedFleet } from './server.js';
import { z } from 'zod';

export interface AdminServer {
  url: string;
  close(): Promise<void>;
}

export async function startAdmin(fleet: SimulatedFleet, options: { host: string; port: number }): Promise<AdminServer> {
  const server: Server = createServer((req, res) => void route(fleet, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : options.port;
  const host = options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Adds a fault after checking it names a vendor-region the fleet has; the error names the field. */
export function addFault(fleet: SimulatedFleet, input: unknown): { ok: true; id: string } | { ok: false; error: string } {
  const parsed = FaultSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${issue?.path.join('.') || 'fault'}: ${issue?.message ?? 'invalid'}` };
  }
  const known = Object.keys(fleet.simulation.config.vendorRegions);
  if (!known.includes(parsed.data.vendorRegion)) {
    return { ok: false, error: `vendorRegion: unknown vendor-region "${parsed.data.vendorRegion}"; known: ${known.join(', ')}` };
  }
  return { ok: true, id: fleet.simulation.faults.add(parsed.data).id };
}

async function route(fleet: SimulatedFleet, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (method === 'GET' && path === '/healthz') return sendJson(res, 200, { ok: true });
  if (method === 'GET' && path === '/endpoints') return sendJson(res, 200, fleet.endpoints());
  if (method === 'GET' && path === '/credentials') {
    const { serviceAccountPublicKey: _publicKey, ...credentials } = fleet.credentials;
    return sendJson(res, 200, credentials);
  }
  if (method === 'GET' && path === '/faults') return sendJson(res, 200, fleet.simulation.faults.list());
  if (method === 'POST' && path === '/faults') {
    const body = await readJson(req);
    const result = body.ok ? addFault(fleet, body.value) : { ok: false as const, error: `body: ${body.error}` };
    return result.ok ? sendJson(res, 201, { id: result.id }) : sendJson(res, 400, { error: result.error });
  }
  if (method === 'DELETE' && path === '/faults') {
    fleet.simulation.faults.clear();
    return sendJson(res, 200, { cleared: true });
  }
  const faultId = /^\/faults\/([\w-]+)$/.exec(path)?.[1];
  if (method === 'DELETE' && faultId) {
    return fleet.simulation.faults.remove(faultId) ? sendJson(res, 200, { removed: faultId }) : sendJson(res, 404, { error: `no fault ${faultId}` });
  }
  if (method === 'GET' && path === '/stats') return sendJson(res, 200, fleet.simulation.stats.snapshot());
  if (method === 'GET' && path === '/requests') return sendJson(res, 200, fleet.log.list(url.searchParams.get('vendorRegion') ?? undefined));
  if (method === 'POST' && path === '/reset') {
    fleet.simulation.faults.clear();
    fleet.simulation.stats.reset();
    fleet.log.clear();
    return sendJson(res, 200, { reset: true });
  }
  sendJson(res, 404, {
    error: `no admin route ${method} ${path}`,
    routes: ['GET /healthz', 'GET /endpoints', 'GET /credentials', 'GET|POST|DELETE /faults', 'DELETE /faults/:id', 'GET /stats', 'GET /requests', 'POST /reset'],
  });
}

async function readJson(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return { ok: true, value: z.json().parse(JSON.parse(Buffer.concat(chunks).toString('utf8'))) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
