/**
 * Reads the secrets a config names: an environment variable or a file. The environment is passed
 * in by the composition root (src/app), the only code that reads the process environment.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

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
