/**
 * Reading the trusted router keys a config names, its own and those of its `trustedKeysFile`:
 * read when a node starts, relative to the config file, checked like the config itself.
 */
import path from 'node:path';
import { ConfigError } from '../domain/index.js';
import { readConfigData } from './load.js';
import { normalizeTrustedKeys, TrustedKeysSchema, type TrustedKeys } from './routers.js';

/** The config's trusted keys merged with those of its `trustedKeysFile`, read relative to `baseDir`. */
export async function loadTrustedKeys(routers: { trustedKeys: TrustedKeys; trustedKeysFile?: string | undefined }, baseDir: string): Promise<TrustedKeys> {
  if (!routers.trustedKeysFile) return routers.trustedKeys;
  const file = path.resolve(baseDir, routers.trustedKeysFile);
  const parsed = TrustedKeysSchema.safeParse(await readConfigData(file));
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ path: ['routers', 'trustedKeysFile', ...i.path.map(String)].join('.'), message: i.message })),
      file,
    );
  }
  const merged: TrustedKeys = { ...routers.trustedKeys };
  for (const [node, keys] of Object.entries(normalizeTrustedKeys(parsed.data))) merged[node] = [...new Set([...(merged[node] ?? []), ...keys])];
  return merged;
}
