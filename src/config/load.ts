/**
 * Finds and reads a config file: TypeScript or JavaScript modules (default export), JSON or YAML.
 * A TypeScript config imports its builders from 'switchyard', which resolves to this package
 * wherever the file lives.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';
import { parse as parseYaml } from 'yaml';
import { ConfigNotFoundError, ConfigUnreadableError } from '../domain/index.js';
import { parseConfig } from './parse.js';
import type { Config } from './schema.js';

export const DEFAULT_CONFIG_FILE = 'switchyard.config.ts';
export const CONFIG_ENV_VARIABLE = 'SWITCHYARD_CONFIG';

const MODULE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];
const YAML_EXTENSIONS = ['.yaml', '.yml'];
const SUPPORTED = [...MODULE_EXTENSIONS, '.json', ...YAML_EXTENSIONS];

export interface ConfigLocation {
  /** The --config flag, when given. */
  flag?: string | undefined;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Which file to load: --config, else $SWITCHYARD_CONFIG, else ./switchyard.config.ts. The variable
 * beats the default file because setting it is a deliberate act and the file may be a leftover.
 */
export function findConfigPath({ flag, cwd, env }: ConfigLocation): string {
  const chosen = flag ?? env[CONFIG_ENV_VARIABLE];
  if (chosen) {
    const resolved = path.resolve(cwd, chosen);
    if (!existsSync(resolved)) {
      const from = flag ? '--config' : CONFIG_ENV_VARIABLE;
      throw new ConfigNotFoundError(`config file ${chosen} (from ${from}) does not exist`);
    }
    return resolved;
  }
  const fallback = path.resolve(cwd, DEFAULT_CONFIG_FILE);
  if (existsSync(fallback)) return fallback;
  throw new ConfigNotFoundError(`no config given and no ${DEFAULT_CONFIG_FILE} in ${cwd}`);
}

/** The example fleet shipped with Switchyard, for commands that can run without a config of yours. */
export function exampleConfigPath(): string {
  // src/config (or dist/src/config) → the package root holds examples/.
  for (const up of ['../../examples/seed.config.yaml', '../../../examples/seed.config.yaml']) {
    const candidate = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new ConfigNotFoundError('the example config examples/seed.config.yaml is missing from this installation');
}

/** The file's data, before validation. */
export async function readConfigData(file: string): Promise<unknown> {
  const extension = path.extname(file).toLowerCase();
  if (!SUPPORTED.includes(extension)) {
    throw new ConfigUnreadableError(file, `unsupported extension "${extension}"; use one of ${SUPPORTED.join(', ')}`);
  }
  if (MODULE_EXTENSIONS.includes(extension)) return importModule(file);
  const text = await readText(file);
  try {
    return extension === '.json' ? JSON.parse(text) : parseYaml(text, { merge: true });
  } catch (error) {
    throw new ConfigUnreadableError(file, firstLine(error), { cause: error });
  }
}

export async function loadConfig(location: ConfigLocation & { fallbackToExample?: boolean }): Promise<{ config: Config; file: string }> {
  let file: string;
  try {
    file = findConfigPath(location);
  } catch (error) {
    if (!(location.fallbackToExample && !location.flag && error instanceof ConfigNotFoundError)) throw error;
    file = exampleConfigPath();
  }
  const data = await readConfigData(file);
  return { config: parseConfig(data, path.relative(location.cwd, file) || file), file };
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigUnreadableError(file, firstLine(error), { cause: error });
  }
}

async function importModule(file: string): Promise<unknown> {
  const jiti = createJiti(import.meta.url, {
    alias: { switchyard: packageEntry() },
    moduleCache: false,
    fsCache: false,
    // A config must say what it exports; a namespace passed off as the default would hide a missing export.
    interopDefault: false,
  });
  let exported: unknown;
  try {
    exported = (await jiti.import<{ default?: unknown }>(file)).default;
  } catch (error) {
    throw new ConfigUnreadableError(file, firstLine(error), { cause: error });
  }
  if (typeof exported === 'function') exported = await (exported as () => unknown)();
  if (typeof exported !== 'object' || exported === null) {
    throw new ConfigUnreadableError(file, 'it must `export default defineConfig({ ... })`');
  }
  return exported;
}

/** This package's public entry, as source when running from a checkout and compiled when built. */
function packageEntry(): string {
  const source = fileURLToPath(new URL('../index.ts', import.meta.url));
  return existsSync(source) ? source : fileURLToPath(new URL('../index.js', import.meta.url));
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
