/** `switchyard check`: the single-point-of-failure report. Exit 0 all pass, 1 any row fails, 2 bad config. */
import { UsageError } from '../../domain/index.js';
import { loadConfig } from '../../config/index.js';
import { formatReport, redundancyReport } from '../../redundancy/index.js';
import { environmentsOf } from '../../routing/index.js';
import { noPositionals, parseFlags } from '../args.js';
import { ExitCode, type CliIo } from '../io.js';

export const checkHelp = `Usage: switchyard check [--config PATH] [--env NAME] [--json]

Reports, for every model × environment × use case, whether its route has enough distinct vendors
and regions, a cross-model fallback, capacity no lower pool can spend, and quota for the declared
peak × buffer. Exits 0 when every row passes, 1 when any fails, 2 when the config is invalid.

  --config PATH  config file (.ts, .js, .json, .yaml); default $SWITCHYARD_CONFIG, then ./switchyard.config.ts
  --env NAME     only rows of this environment
  --json         one JSON object per row, in an array, for machines
`;

export async function check(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const { values, positionals } = parseFlags('check', args, {
    config: { type: 'string' },
    env: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  noPositionals('check', positionals);
  const { config } = await loadConfig({ flag: values.config, cwd: io.cwd, env: io.env });
  const environments = environmentsOf(config);
  if (values.env !== undefined && !environments.includes(values.env)) {
    throw new UsageError(`switchyard check: unknown environment "${values.env}"; the config routes: ${environments.join(', ')}`, 'Pass one of those to --env, or leave it out for all.');
  }
  const rows = redundancyReport(config, { environment: values.env });
  io.stdout(values.json ? `${JSON.stringify(rows, null, 2)}\n` : formatReport(rows));
  return rows.every((r) => r.pass) ? ExitCode.Ok : ExitCode.Failed;
}
