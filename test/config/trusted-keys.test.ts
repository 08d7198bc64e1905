/** routers.trustedKeys and its trustedKeysFile: merged when a node starts, checked like the config. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/domain/index.js';
import { loadTrustedKeys } from '../../src/config/index.js';

const key = () => nkeys.createUser().getPublicKey();

describe('trusted router keys', () => {
  it('merges the file into the config, a node id with keys in both keeping all of them', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'trusted-'));
    const [a, b, c] = [key(), key(), key()];
    await writeFile(path.join(dir, 'routers.yaml'), `router-1: ${b}\nrouter-2: [${c}]\n`);
    const merged = await loadTrustedKeys({ trustedKeys: { 'router-1': [a] }, trustedKeysFile: 'routers.yaml' }, dir);
    expect(merged).toEqual({ 'router-1': [a, b], 'router-2': [c] });
  });

  it('refuses a file holding a seed, naming the file and the entry', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'trusted-'));
    const seed = new TextDecoder().decode(nkeys.createUser().getSeed());
    await writeFile(path.join(dir, 'routers.json'), JSON.stringify({ 'router-1': seed }));
    const error = await loadTrustedKeys({ trustedKeys: {}, trustedKeysFile: 'routers.json' }, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]?.path).toBe('routers.trustedKeysFile.router-1');
    expect((error as ConfigError).message).toContain(path.join(dir, 'routers.json'));
  });
});
