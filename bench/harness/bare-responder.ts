/**
 * The floor under a router node (bench/nats-floor): a process that answers the request protocol
 * with the messages a node sends for a plain request (acknowledgement, result, usage event), read
 * and written with the node's own code (request intake, reply log, outbox), and nothing else: no
 * routing, no actors, no vendor call. What it costs a request is what any router over this bus
 * pays before doing its own work. Run with tsx by the bench; prints `ready` once subscribed.
 */
import { connect } from '@nats-io/transport-node';
import { Outbox, readRequest, ReplyLog } from '../../src/transport/index.js';
import { requestWildcard, ROUTER_QUEUE, usageSubject } from '../../src/transport/subjects.js';

const nc = await connect({ servers: process.env.NATS_URL });
const outbox = new Outbox((subject, data) => nc.publish(subject, data));
const publish = (subject: string, data: string) => outbox.publish(subject, data);
const text = 'A canned answer of about the length the simulator gives for sixteen tokens.';
let answered = 0;
nc.subscribe(requestWildcard(), {
  queue: ROUTER_QUEUE,
  callback: (error, msg) => {
    if (error || !msg.reply) return;
    const intake = readRequest(msg);
    const requestId = intake.head?.requestId ?? `bare-${answered}`;
    const replies = new ReplyLog(requestId, 'bare', msg.reply, publish);
    if ('error' in intake) return replies.send({ kind: 'error', error: intake.error });
    replies.send({ kind: 'accepted', ...(intake.head.callerToken ? {} : { token: 'bare-token-0000000000000000000000' }) });
    outbox.flush();
    // The answer comes on a later turn, as a vendor's would.
    setImmediate(() => {
      const response = { id: requestId, model: intake.request.model, content: [{ type: 'text' as const, text }], stopReason: 'max_tokens' as const, usage: { inputTokens: 24, outputTokens: 16 } };
      replies.send({ kind: 'result', response, servedBy: { deployment: `${intake.request.model}@bare`, model: intake.request.model, attempts: 1, resumed: 0 } });
      publish(usageSubject(), JSON.stringify({ requestId, node: 'bare', useCase: intake.useCase, model: intake.request.model, outcome: 'ok', durationMs: 0 }));
      answered++;
    });
  },
});
await nc.flush();
console.log('ready');
process.on('SIGTERM', () => void nc.drain().finally(() => process.exit(0)));
