/**
 * What a simulated vendor protocol gets for each request, and the plumbing they all share. A
 * protocol handler checks authentication its vendor's way, parses the body, asks the simulation
 * for a call, and writes the answer or the error in its vendor's wire format.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deployment, VendorRegion } from '../config/index.js';
import type { AccessTokens, SimulatorCredentials } from './credentials.js';
import type { Refusal, SimCall, SimStep, Simulation } from './engine.js';

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  body: Buffer;
  vendorRegion: VendorRegion;
  sim: Simulation;
  credentials: SimulatorCredentials;
  tokens: AccessTokens;
  /** Aborted when the client closes the connection before the response has ended. */
  clientGone: AbortSignal;
}

export type ProtocolHandler = (exchange: Exchange) => Promise<void>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The deployment of this vendor-region whose vendor model id the request names. */
export function deploymentByVendorModelId(vendorRegion: VendorRegion, vendorModelId: string): Deployment | undefined {
  return Object.values(vendorRegion.deployments).find((d) => d.vendorModelId === vendorModelId);
}

export function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) as unknown };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Ties a call's lifetime to the exchange: concurrency is released however the response ends. A
 * vendor stops counting a request when it has written the answer ('finish'), not when the socket
 * event that follows arrives ('close'), which can come after the client has already sent its next
 * request on the same connection and would count one request too many.
 */
export function track(exchange: Exchange, call: SimCall): void {
  exchange.res.once('finish', () => call.finish(false));
  exchange.res.once('close', () => call.finish(!exchange.res.writableFinished));
}

export interface StreamWriter {
  event(step: Extract<SimStep, { type: 'event' }>['event']): void;
  /** Writes something the vendor's parser cannot read, then ends. */
  malformed(): void;
  /** Writes the vendor's own in-stream error, then ends. */
  streamError(error: Extract<SimStep, { type: 'stream_error' }>['error']): void;
}

/** Plays a call's steps through a protocol's writer: a cut destroys the socket mid-stream, as a dropped connection does. */
export async function playStream(exchange: Exchange, call: SimCall, writer: StreamWriter): Promise<void> {
  for await (const step of call.steps(exchange.clientGone)) {
    if (exchange.clientGone.aborted) return;
    switch (step.type) {
      case 'event':
        writer.event(step.event);
        break;
      case 'cut':
        // Let what was written reach the client first: a cut stream has a beginning.
        await new Promise<void>((resolve) => exchange.res.write('', () => resolve()));
        exchange.res.destroy();
        return;
      case 'malformed':
        writer.malformed();
        exchange.res.end();
        return;
      case 'stream_error':
        writer.streamError(step.error);
        exchange.res.end();
        return;
    }
  }
  exchange.res.end();
}

/**
 * Answers a refused call: a hang holds the connection open without a byte until the client or the
 * simulator gives up; every other refusal is written by the protocol in its vendor's shape.
 */
export function answerRefusal(exchange: Exchange, refusal: Refusal, write: (refusal: Exclude<Refusal, { kind: 'hang' }>) => void): void {
  if (refusal.kind === 'hang') return;
  write(refusal);
}

/** Seconds for a retry-after header: vendors send whole seconds, rounded up. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}
