/**
 * One vendor call on undici's dispatch API (src/vendors/vendor-call.ts), against a real HTTP
 * server: the body arrives whole and in order, a reader that falls behind pauses the socket
 * instead of buffering without bound, and an abort before undici has started the call still ends it.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { VendorCall } from '../../src/vendors/vendor-call.js';
import { sendVendorRequest } from '../../src/vendors/http.js';
import { VendorError } from '../../src/domain/index.js';
import type { Deployment } from '../../src/config/index.js';

describe('a vendor call', () => {
  let write: (res: ServerResponse) => void = (res) => res.end();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => write(res));
  });
  const dispatcher = new Agent();
  let origin = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await dispatcher.close();
  });
  const call = () => new VendorCall(dispatcher, { origin, path: '/v1/x', method: 'POST', body: '{}', headersTimeout: 0, bodyTimeout: 0 });

  it('reads a body of many writes whole and in order', async () => {
    const pieces = Array.from({ length: 2_000 }, (_, i) => `${String(i).padStart(6, '0')};`);
    write = (res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-test': 'yes' });
      for (const piece of pieces) res.write(piece);
      res.end();
    };
    const c = call();
    const head = await c.head;
    expect(head).toMatchObject({ statusCode: 200, headers: { 'x-test': 'yes' } });
    const read: Buffer[] = [];
    for (let chunk = await c.next(); chunk !== undefined; chunk = await c.next()) read.push(chunk);
    expect(Buffer.concat(read).toString()).toBe(pieces.join(''));
    expect(c.complete).toBe(true);
  });

  it('pauses the socket while its reader is behind, instead of holding the whole body', async () => {
    const limit = 64 * 1024 * 1024;
    let written = 0;
    let pushedBack = false;
    const done = new Promise<void>((resolve) => {
      write = (res) => {
        res.writeHead(200);
        const piece = Buffer.alloc(64 * 1024, 1);
        const more = () => {
          while (written < limit) {
            written += piece.length;
            if (!res.write(piece)) {
              pushedBack = true;
              return resolve();
            }
          }
          res.end();
          resolve();
        };
        more();
      };
    });
    const c = call();
    await c.head;
    await done;
    // Our side stopped reading long before the server had written it all.
    expect(pushedBack).toBe(true);
    expect(written).toBeLessThan(limit);
    c.abort(new Error('enough'));
    await expect(c.next()).rejects.toThrow('enough');
  });

  it('ends a call aborted before undici has started it', async () => {
    write = (res) => res.writeHead(200).end('late');
    const c = call();
    c.abort(new Error('stopped at once'));
    await expect(c.head).rejects.toThrow('stopped at once');
    await expect(c.next()).rejects.toThrow('stopped at once');
  });

  it('rejects a URL no request could be sent to with a classified VendorError, not a TypeError', async () => {
    const source = { vendor: 'openai' as const, vendorRegion: 'openai' };
    const sent = sendVendorRequest(source, dispatcher, { deployment: {} as Deployment }, { url: 'not a url', headers: {} }, Date.now);
    await expect(sent).rejects.toBeInstanceOf(VendorError);
    await expect(sent).rejects.toMatchObject({ code: 'vendor_connection', failureClass: 'fault' });
  });
});
