import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionsByOrigin, createVendorDispatcher } from '../../src/vendors/index.js';

describe('the vendor connection pools', () => {
  it('give each origin what its deployments may carry at once, and never fewer than 256', () => {
    const quota = (concurrency: number) => ({ quota: { concurrency } });
    const byOrigin = connectionsByOrigin([
      { baseUrl: 'https://api.openai.com/v1', deployments: { a: quota(800), b: quota(400) } },
      // Another vendor-region on the same origin adds to it.
      { baseUrl: 'https://api.openai.com/v1/', deployments: { c: quota(100) } },
      { baseUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com', deployments: { d: quota(10) } },
    ]);
    expect(Object.fromEntries(byOrigin)).toStrictEqual({ 'https://api.openai.com': 1300, 'https://bedrock-runtime.us-east-1.amazonaws.com': 256 });
  });

  describe('against a vendor that holds every stream open', () => {
    const held: ServerResponse[] = [];
    const sockets = new Set<unknown>();
    const server = createServer((_req, res) => {
      sockets.add(res.socket);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {}\n\n');
      held.push(res);
    });
    let origin = '';
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      for (const res of held) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('open as many connections at once as the origin was given, past the default 256', async () => {
      const dispatcher = createVendorDispatcher({ connectionsByOrigin: new Map([[origin, 300]]) });
      const streams = await Promise.all(Array.from({ length: 300 }, () => request(`${origin}/v1/chat/completions`, { method: 'POST', dispatcher, body: '{}' })));
      // Every one got its answer's head while all 300 were held open: none queued behind another.
      expect(streams.every((s) => s.statusCode === 200)).toBe(true);
      expect(streams).toHaveLength(300);
      expect(sockets.size).toBe(300);
      for (const s of streams) s.body.destroy();
      await dispatcher.destroy();
    });
  });
});
