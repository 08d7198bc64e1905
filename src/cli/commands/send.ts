/** `switchyard send`: one request through the router nodes, printing the answer and who served it. */
import { createClient } from '../../client/index.js';
import { PRIORITIES, UsageError, type CanonicalRequest, type Priority } from '../../domain/index.js';
import { noPositionals, parseFlags } from '../args.js';
import { ExitCode, type CliIo } from '../io.js';
import { natsOptions } from '../nats-options.js';

export const sendHelp = `Usage: switchyard send [--nats URL,...] [--usecase NAME] [--model NAME] [--tenant NAME] [--priority P]
                      [--deadline MS] [--stream] [--json] "prompt"

Sends one request to the router nodes and prints the answer and the deployment that served it.

  --nats URL,...   NATS servers (default $NATS_URL, then nats://127.0.0.1:4222)
  --usecase NAME   use case (default otherwise)
  --model NAME     logical model (default claude-sonnet-4)
  --max-tokens N   most output tokens (default 512)
  --tenant NAME    on whose behalf it runs (default: the config's default tenant)
  --priority P     critical, high, standard or batch (default: the pool's; capped by the tenant)
  --deadline MS    give up after this many milliseconds (sent to the router as sy-deadline-ms)
  --stream         print the answer as it streams
  --json           print the response and servedBy as JSON
`;

export async function send(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseFlags('send', args, {
    nats: { type: 'string' },
    usecase: { type: 'string', default: 'otherwise' },
    model: { type: 'string', default: 'claude-sonnet-4' },
    'max-tokens': { type: 'string', default: '512' },
    stream: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    tenant: { type: 'string' },
    priority: { type: 'string' },
    deadline: { type: 'string' },
    config: { type: 'string' },
  });
  const [prompt, ...rest] = positionals;
  if (!prompt) throw new UsageError('switchyard send: give the prompt as the last argument', 'For example: switchyard send "Hello"');
  noPositionals('send', rest);
  const maxTokens = Number(values['max-tokens']);
  if (!Number.isInteger(maxTokens) || maxTokens <= 0) throw new UsageError(`switchyard send: --max-tokens expects a positive integer, got "${values['max-tokens']}"`);
  const priority = values.priority;
  if (priority !== undefined && !(PRIORITIES as readonly string[]).includes(priority)) {
    throw new UsageError(`switchyard send: --priority expects one of ${PRIORITIES.join(', ')}, got "${priority}"`);
  }
  const deadlineMs = values.deadline === undefined ? undefined : Number(values.deadline);
  if (deadlineMs !== undefined && !(Number.isInteger(deadlineMs) && deadlineMs > 0)) {
    throw new UsageError(`switchyard send: --deadline expects a positive number of milliseconds, got "${values.deadline}"`);
  }
  const request: CanonicalRequest = { model: values.model, maxTokens, messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }] };
  const options = natsOptions(values.nats, io.env, 'switchyard-send');
  const client = await createClient(options, {
    useCase: values.usecase,
    ...(values.tenant !== undefined ? { tenant: values.tenant } : {}),
    ...(priority !== undefined ? { priority: priority as Priority } : {}),
  });
  const perRequest = deadlineMs !== undefined ? { deadlineMs } : {};
  try {
    if (values.stream) {
      const stream = client.stream(request, perRequest);
      for await (const event of stream) if (event.type === 'delta' && event.delta.type === 'text') io.stdout(event.delta.text);
      const { servedBy } = await stream.result;
      io.stdout(`\n\n— served by ${servedBy.deployment} (${servedBy.attempts} attempt${servedBy.attempts === 1 ? '' : 's'})\n`);
    } else {
      const { response, servedBy } = await client.complete(request, perRequest);
      if (values.json) io.stdout(`${JSON.stringify({ response, servedBy })}\n`);
      else {
        const text = response.content.map((b) => (b.type === 'text' ? b.text : `[tool call ${b.name} ${JSON.stringify(b.arguments)}]`)).join('');
        io.stdout(`${text}\n\n— served by ${servedBy.deployment} (${servedBy.attempts} attempt${servedBy.attempts === 1 ? '' : 's'})\n`);
      }
    }
  } finally {
    await client.close();
  }
  return ExitCode.Ok;
}
