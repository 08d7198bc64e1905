/**
 * A tenant flooding at twenty times its share, as another application would: its own process, its
 * own NATS connection. Says `ready` once connected and floods from the first line on its standard
 * input (so the process's start-up, a second or two of CPU, is not inside the measured run); runs
 * until SIGTERM, then prints `{ requests, ok }` as one JSON line. Started by
 * fleet-fairness.bench.ts: `tsx bench/flood-client.ts <nats url> <tenant> <in flight>`.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createClient } from '../src/client/index.js';

const [url, tenant, inFlight] = process.argv.slice(2);
const client = await createClient({ servers: [url!] }, { idleTimeoutMs: 10_000 });
let requests = 0;
let ok = 0;
let stopping = false;
process.once('SIGTERM', () => (stopping = true));
const input = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
await once(input, 'line');
input.close();
await Promise.all(
  Array.from({ length: Number(inFlight) }, async () => {
    while (!stopping) {
      requests++;
      try {
        await client.complete({ model: 'claude-sonnet-4', maxTokens: 30, messages: [{ role: 'user', content: [{ type: 'text', text: `flood ${requests}` }] }] }, { useCase: 'otherwise', tenant: tenant! });
        ok++;
      } catch (error) {
        // A refused caller waits the retry-after it is told, as the library's users are asked to.
        const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs;
        if (retryAfterMs) await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfterMs, 1_000)));
      }
    }
  }),
);
process.stdout.write(`${JSON.stringify({ requests, ok })}\n`);
await client.close();
