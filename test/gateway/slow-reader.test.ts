/**
 * A reader that stops reading cannot make the gateway hold its answer: the writer waits for the
 * socket to drain, and a reader that drains nothing for the stall limit is cut off. Real sockets:
 * a node:http server writing as the gateway does, and a client that never reads.
 */
import { createServer } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { writeOrWait } from '../../src/gateway/http.js';

describe('a slow reader', () => {
  it('is cut off after the stall limit once its buffers are full, and the writer stops writing', async () => {
    const chunk = 'x'.repeat(256 * 1024);
    let written = 0;
    const outcome = new Promise<{ kept: boolean; destroyed: boolean; waitedMs: number }>((resolve) => {
      const server = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        void (async () => {
          let started = 0;
          for (;;) {
            started = Date.now();
            const kept = await writeOrWait(res, chunk, 200);
            if (!kept) {
              resolve({ kept, destroyed: res.destroyed, waitedMs: Date.now() - started });
              server.close();
              return;
            }
            written += chunk.length;
          }
        })();
      });
      server.listen(0, '127.0.0.1', () => {
        const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => {
          socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
          // Never read: the kernel's buffers fill, then the server's.
          socket.pause();
        });
        socket.on('error', () => undefined);
      });
    });
    const { kept, destroyed, waitedMs } = await outcome;
    expect(kept).toBe(false);
    expect(destroyed).toBe(true);
    expect(waitedMs).toBeGreaterThanOrEqual(190);
    // What was written before the cut is bounded by the socket buffers, not the answer's size.
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });
});
