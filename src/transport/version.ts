/**
 * Switchyard's version, read once from its package.json: what a node announces in its heartbeat
 * and `$SRV` INFO, and what `switchyard --version` prints. Found by walking up from this file,
 * which lives at a different depth in a checkout (src/transport) and in a build (dist/src/transport).
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'switchyard' && pkg.version) return pkg.version;
    } catch {
      // No package.json here: one level up.
    }
    if (dir.pathname === '/') return '0.0.0-unknown';
  }
}

export const VERSION = readVersion();
