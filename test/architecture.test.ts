/**
 * Enforces which folder may import which (docs/design.md §3), that machines/ stays pure, that only
 * src/app reads the process environment, and that each folder says in its index what lives there.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Area → the areas it may import. `src/index.ts` is the package entry, its own area. */
const ALLOWED: Record<string, string[]> = {
  'src/domain': [],
  machines: ['src/domain'],
  'src/config': ['src/domain'],
  'src/routing': ['src/domain', 'src/config'],
  'src/capacity': ['src/domain', 'src/config', 'src/routing'],
  'src/redundancy': ['src/domain', 'src/config', 'src/routing', 'src/capacity'],
  'src/observability': ['src/domain', 'src/config'],
  'src/vendors': ['src/domain', 'src/config', 'src/observability'],
  'src/transport': ['src/domain', 'src/config', 'src/observability'],
  'src/simulator': ['src/domain', 'src/config', 'src/vendors', 'src/transport', 'src/observability'],
  actors: ['machines', 'src/domain', 'src/config', 'src/routing', 'src/capacity', 'src/vendors', 'src/transport', 'src/observability'],
  'src/gateway': ['src/domain', 'src/config', 'src/capacity', 'src/client', 'src/vendors', 'src/transport', 'src/observability'],
  'src/client': ['src/domain', 'src/transport'],
  'src/cli': ['*', '!src/app'],
  'src/index.ts': ['src/domain', 'src/config', 'src/client'],
  'src/app': ['*'],
};

/** npm packages these pure areas may use; anything else there would be I/O or a second source of time. */
const PURE_PACKAGES: Record<string, string[]> = { machines: ['xstate', 'zod'], 'src/domain': ['zod'] };

function sourceFiles(dir: string): string[] {
  const full = path.join(root, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) return sourceFiles(rel);
    return name.endsWith('.ts') ? [rel] : [];
  });
}

function areaOf(file: string): string | undefined {
  const parts = file.split(path.sep);
  if (parts[0] === 'machines' || parts[0] === 'actors') return parts[0];
  if (parts[0] === 'src' && parts.length === 2) return file === path.join('src', 'index.ts') ? 'src/index.ts' : undefined;
  if (parts[0] === 'src') return `src/${parts[1]}`;
  return undefined;
}

function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)];
  return specifiers.map((m) => m[1] ?? m[2] ?? '');
}

function mayImport(from: string, to: string): boolean {
  if (from === to) return true;
  const rules = ALLOWED[from] ?? [];
  if (rules.includes(`!${to}`)) return false;
  return rules.includes('*') || rules.includes(to);
}

const files = ['src', 'machines', 'actors'].flatMap(sourceFiles);

describe('architecture', () => {
  it('knows every area the code has', () => {
    const areas = new Set(files.map(areaOf));
    expect([...areas].filter((a) => a === undefined || !(a in ALLOWED))).toEqual([]);
  });

  it('imports across folders only as docs/design.md §3 allows', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = areaOf(file);
      if (!from) continue;
      for (const specifier of importsOf(file)) {
        if (!specifier.startsWith('.')) continue;
        const target = path.relative(root, path.resolve(path.dirname(path.join(root, file)), specifier));
        const to = areaOf(target.replace(/\.js$/, '.ts'));
        if (to && !mayImport(from, to)) violations.push(`${file} imports ${specifier} (${from} → ${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps machines/ and src/domain free of I/O', () => {
    const offenders: string[] = [];
    for (const file of files.filter((f) => ['machines', 'src/domain'].includes(areaOf(f) ?? ''))) {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('.')) continue;
        const allowed = PURE_PACKAGES[areaOf(file) ?? ''] ?? [];
        if (!allowed.includes(specifier)) offenders.push(`${file} imports ${specifier}`);
      }
      const text = readFileSync(path.join(root, file), 'utf8');
      if (/\b(setTimeout|setInterval|Date\.now|process\.)/.test(text)) offenders.push(`${file} uses the clock or the process`);
    }
    expect(offenders).toEqual([]);
  });

  it('reads the process environment and arguments only in src/app', () => {
    const readers = files.filter((f) => areaOf(f) !== 'src/app' && /process\.(env|argv|exit)\b/.test(readFileSync(path.join(root, f), 'utf8')));
    expect(readers).toEqual([]);
  });

  it('opens every top-level folder with an index.ts that says what lives there', () => {
    const folders = [...new Set(files.map((f) => areaOf(f)))].filter((a): a is string => a !== undefined && a !== 'src/index.ts');
    // src/app's entry is main.ts: it runs the process, so importing it must not be mistaken for a library.
    const missing = folders.filter((dir) => {
      const index = ['index.ts', 'main.ts'].map((f) => path.join(root, dir, f)).find((f) => existsSync(f));
      return !index || !readFileSync(index, 'utf8').startsWith('/**');
    });
    expect(missing).toEqual([]);
  });

  it('cites only documents inside the repository', () => {
    const outside = /\.\.\/shared|DESIGN\.md|reliability-algorithms\.md|vendor-protocols\.md/;
    const all = [...files, ...['test', 'bench'].flatMap(sourceFiles)].filter((f) => f !== path.join('test', 'architecture.test.ts'));
    expect(all.length).toBeGreaterThan(100);
    expect(all.filter((f) => outside.test(readFileSync(path.join(root, f), 'utf8')))).toEqual([]);
    expect(existsSync(path.join(root, 'docs', 'design.md'))).toBe(true);
  });

  it('catches a forbidden import (the rule itself can fail)', () => {
    expect(mayImport('src/config', 'src/routing')).toBe(false);
    expect(mayImport('machines', 'src/vendors')).toBe(false);
    expect(mayImport('src/cli', 'src/app')).toBe(false);
    expect(mayImport('src/app', 'src/cli')).toBe(true);
  });
});
