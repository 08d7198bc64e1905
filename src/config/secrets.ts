/**
 * Reads the secrets a config names: an environment variable or a file. The environment is passed
 * in by the composition root (src/app), the only code that reads the process environment.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REQUIRED } from './references.js';
import type { Config } from './schema.js';

export type SecretSource = { env: string } | { file: string };

export function secretResolver(env: Readonly<Record<string, string | undefined>>, baseDir: string): (source: SecretSource) => Promise<string> {
  return async (source) => {
    if ('env' in source) {
      const value = env[source.env];
      if (value === undefined) throw new Error(`the environment variable ${source.env} is not set; set it to the credential, or point the config at a file`);
      return value;
    }
    return (await readFile(path.resolve(baseDir, source.file), 'utf8')).trim();
  };
}

/**
 * Every credential a vendor-region needs that is not where the config says, by vendor-region: the
 * variables not set (or empty) and the files that do not exist. A router starts without those
 * vendor-regions rather than fail on every request to them; this is what it tells the operator.
 */
export function missingCredentials(config: Config, env: Readonly<Record<string, string | undefined>>, baseDir: string): Record<string, string[]> {
  const missing: Record<string, string[]> = {};
  for (const vendorRegion of Object.values(config.vendorRegions)) {
    const gaps: string[] = [];
    for (const name of REQUIRED[vendorRegion.vendor].credentials) {
      const source = vendorRegion.credentials[name];
      if (!source) continue;
      if ('file' in source) {
        if (!existsSync(path.resolve(baseDir, source.file))) gaps.push(`file ${source.file} (${name})`);
        continue;
      }
      const value = env[source.env];
      if (!value) gaps.push(`$${source.env} (${name})`);
      // Google's convention: the variable holds the key file's path, not the key.
      else if (name === 'serviceAccount' && !value.trimStart().startsWith('{') && !existsSync(path.resolve(baseDir, value.trim()))) {
        gaps.push(`file ${value.trim()} named by $${source.env} (${name})`);
      }
    }
    if (gaps.length > 0) missing[vendorRegion.id] = gaps;
  }
  return missing;
}
