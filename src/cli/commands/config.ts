/** `switchyard config schema|print`: the JSON Schema for editors, and the resolved config with secrets masked. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { UsageError } from '../../domain/index.js';
import { configJsonSchema, loadConfig, maskConfig } from '../../config/index.js';
import { noPositionals, parseFlags } from '../args.js';
import { ExitCode, type CliIo } from '../io.js';

export const configHelp = `Usage: switchyard config schema
       switchyard config print [--config PATH] [--json]

  schema         print the JSON Schema of a config file (point your editor's YAML/JSON support at it)
  print          print the resolved config: defaults filled in, routes by model name, secrets masked;
                 each credential says whether its variable or file is available here
  --config PATH  config file; default $SWITCHYARD_CONFIG, then ./switchyard.config.ts
  --json         print JSON instead of YAML
`;

export async function config(args: readonly string[], io: CliIo): Promise<ExitCode> {
  const [sub, ...rest] = args;
  if (sub === 'schema') {
    const { positionals } = parseFlags('config schema', rest, {});
    noPositionals('config schema', positionals);
    io.stdout(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    return ExitCode.Ok;
  }
  if (sub === 'print') {
    const { values, positionals } = parseFlags('config print', rest, {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    noPositionals('config print', positionals);
    const { config: loaded, file } = await loadConfig({ flag: values.config, cwd: io.cwd, env: io.env });
    const masked = maskConfig(loaded, {
      isAvailable: (source) =>
        'env' in source ? Boolean(io.env[source.env]) : existsSync(path.resolve(path.dirname(file), source.file)),
    });
    io.stdout(values.json ? `${JSON.stringify(masked, null, 2)}\n` : stringify(masked));
    return ExitCode.Ok;
  }
  throw new UsageError(
    sub ? `switchyard config: unknown subcommand "${sub}"` : 'switchyard config: missing subcommand',
    'Use `switchyard config schema` or `switchyard config print --config PATH`.',
  );
}
