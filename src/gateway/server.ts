/**
 * The gateway's HTTP server: routes, limits and lifetime. `node:http` alone: the routes are five,
 * and the work per request is JSON in and out, which a framework would only wrap.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import { createClient, type SwitchyardClient } from '../client/index.js';
import type { ApiKeyEntry, Config } from '../config/index.js';
import { REQUEST_LIMITS } from '../domain/index.js';
import type { Logger } from '../observability/index.js';
import { anthropicShape, parseMessages } from './anthropic.js';
import { allowedModels, authenticate, isProblem } from './caller.js';
import { serveCompletion, type EndpointContext } from './endpoint.js';
import { sendJson } from './http.js';
import { ApiKeys } from './keys.js';
import { openaiShape, parseChatCompletion } from './openai.js';
import { problem } from './problems.js';
import { Readiness } from './readiness.js';
import { openExchange, sendProblem, type ApiShape } from './relay.js';

export interface GatewayOptions {
  connection: NatsConnection;
  config: Config;
  host?: string;
  /** 0 (the default) takes a free port. */
  port?: number;
  /** Keys besides the config's, e.g. the development key `switchyard dev` makes. */
  extraKeys?: Record<string, ApiKeyEntry>;
  /** Subject prefix of the router fleet (default sy). */
  prefix?: string;
  log?: Logger;
  limits?: Partial<GatewayLimits>;
}

export interface GatewayLimits {
  maxBodyBytes: number;
  /** Time to receive a request's headers. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** A streaming reader that takes nothing for this long is cut off (and its request cancelled). */
  stallMs: number;
}

const DEFAULT_LIMITS: GatewayLimits = {
  maxBodyBytes: REQUEST_LIMITS.maxBytes,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  stallMs: 30_000,
};

export interface RunningGateway {
  url: string;
  keys: number;
  close(): Promise<void>;
}

const CHAT_PATHS = new Set(['/v1/chat/completions', '/chat/completions']);
const MESSAGES_PATHS = new Set(['/v1/messages', '/messages']);
const MODELS_PATHS = new Set(['/v1/models', '/models']);
/** A fixed creation time (2025-05-14), so listings are the same on every run. */
const MODELS_CREATED = 1_747_180_800;

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const client = await createClient({ connection: options.connection }, options.prefix ? { prefix: options.prefix } : {});
  const keys = new ApiKeys(options.config.gateway, options.extraKeys);
  const readiness = new Readiness(options.connection);
  const context: EndpointContext = { config: options.config, keys, relay: { client, stallMs: limits.stallMs }, maxBodyBytes: limits.maxBodyBytes };

  // Node checks the header and request timeouts on this interval (30 s by default), so it is short.
  const server = createServer({ connectionsCheckingInterval: 1_000 }, (req, res) => {
    // Anthropic's SDKs always send anthropic-version; everything else is answered as OpenAI would.
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    const shape = MESSAGES_PATHS.has(path) || req.headers['anthropic-version'] ? anthropicShape : openaiShape;
    route(req, res, path, shape).catch((error: unknown) => {
      // A client that left mid-upload makes the body read throw: nobody to answer, nothing to alarm.
      if (req.destroyed || res.destroyed) return options.log?.debug({ err: error, path }, 'gateway client left before its answer');
      options.log?.error({ err: error, path }, 'gateway request failed');
      sendProblem(openExchange(req, res, shape), problem('server', 'internal', 'the gateway failed to handle this request; retry it, and report it if it keeps failing'));
    });
  });
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;

  async function route(req: IncomingMessage, res: ServerResponse, path: string, shape: ApiShape): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/healthz') return sendJson(res, 200, { ok: true });
    if (path === '/readyz') {
      const report = await readiness.check();
      return sendJson(res, report.ready ? 200 : 503, report);
    }
    if (method === 'POST' && CHAT_PATHS.has(path)) return serveCompletion(context, req, res, openaiShape, parseChatCompletion);
    if (method === 'POST' && MESSAGES_PATHS.has(path)) return serveCompletion(context, req, res, anthropicShape, parseMessages);
    if (method === 'GET' && MODELS_PATHS.has(path)) return listModels(req, res, shape);
    const x = openExchange(req, res, shape, '');
    if (CHAT_PATHS.has(path) || MESSAGES_PATHS.has(path)) {
      return sendProblem(x, { ...problem('invalid_request', 'method_not_allowed', `${method} is not served at ${path}; send the request with POST`), status: 405 });
    }
    sendProblem(x, problem('not_found', 'not_found', `no route ${method} ${path}; the gateway serves POST /v1/chat/completions, POST /v1/messages, GET /v1/models, GET /healthz and GET /readyz`));
  }

  function listModels(req: IncomingMessage, res: ServerResponse, shape: ApiShape): void {
    const x = openExchange(req, res, shape, '');
    const key = authenticate(keys, req.headers);
    if (isProblem(key)) return sendProblem(x, key);
    const models = allowedModels(options.config, key);
    if (shape === anthropicShape) {
      const data = models.map((id) => ({ type: 'model', id, display_name: id, created_at: new Date(MODELS_CREATED * 1000).toISOString() }));
      return sendJson(res, 200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
    }
    sendJson(res, 200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created: MODELS_CREATED, owned_by: 'switchyard' })) });
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // A port already taken: the caller may try another, and must not inherit this client.
    await client.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    keys: keys.size,
    close: () => closeGateway(server, client),
  };
}

/** Stops taking connections, lets answers in flight finish for a moment, then cuts the rest. */
async function closeGateway(server: Server, client: SwitchyardClient, graceMs = 2_000): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
  await client.close();
}
