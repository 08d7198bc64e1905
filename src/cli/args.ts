/** Flag parsing with node:util, turning its errors into UsageErrors that name the flag and the fix. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../domain/index.js';

type Options = NonNullable<ParseArgsConfig['options']>;

type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;

export function parseFlags<T extends Options>(command: string, args: readonly string[], options: T): Parsed<T> {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`switchyard ${command}: ${message.replace(/\. To specify.*$/s, '')}`, `Run \`switchyard ${command} --help\` for its flags.`);
  }
}

export function noPositionals(command: string, positionals: readonly string[]): void {
  if (positionals.length > 0) {
    throw new UsageError(`switchyard ${command}: unexpected argument "${positionals[0]}"`, `Run \`switchyard ${command} --help\` for its flags.`);
  }
}
