/**
 * What every adapter test needs: the VendorError a call ends with, a stream's events and text, and
 * a real socket that replays recorded vendor replies and remembers what it was sent.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VendorError, type StreamEvent } from '../../src/domain/index.js';

/** The classified error a call fails with; anything else (or success) fails the test. */
export async function vendorFailure(work: Promise<unknown>): Promise<VendorError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof VendorError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

export async function collectStream(stream: AsyncIterable<StreamEvent>): Promise<{ text: string; events: StreamEvent[] }> {
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  const text = events.map((e) => (e.type === 'delta' && e.delta.type === 'text' ? e.delta.text : '')).join('');
  return { text, events };
}

export interface ReplayServer {
  /** Base URL, with `basePath` appended. */
  url: string;
  received: { url: string; headers: IncomingHttpHeaders; body: string }[];
  reply(status: number, headers: Record<string, string>, body: string): void;
  close(): Promise<void>;
}

/** Answers each request with the next queued reply (599 when none is queued). */
export async function replayServer(basePath = ''): Promise<ReplayServer> {
  const replies: { status: number; headers: Record<string, string>; body: string }[] = [];
  const received: ReplayServer['received'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const reply = replies.shift() ?? { status: 599, headers: {}, body: 'no reply queued' };
      res.writeHead(reply.status, reply.headers).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${basePath}`,
    received,
    reply: (status, headers, body) => replies.push({ status, headers, body }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
