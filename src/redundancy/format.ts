/** The report as people read it: a table with one line per row, then one line per failing cell. */
import { CRITERIA, type Criterion, type RedundancyRow } from './report.js';

const HEADERS = ['MODEL', 'ENV', 'USE CASE', 'POOL', 'VENDORS', 'REGIONS', 'FALLBACK', 'ISOLATED', 'QUOTA', 'RESULT'];

function cell(row: RedundancyRow, criterion: Criterion): string {
  const mark = row.checks[criterion] ? 'ok' : 'FAIL';
  switch (criterion) {
    case 'vendors':
      return `${mark} ${row.vendors.length}`;
    case 'regions':
      return `${mark} ${row.regions.length}`;
    case 'fallback':
      return row.fallbacks.length > 0 ? `${mark} ${row.fallbacks.join(',')}` : row.floors.requireFallback ? `${mark} none` : '- none';
    case 'isolatedCapacity':
      return row.critical && row.capacity.rpm > 0 ? `${mark} yes` : row.floors.requireIsolatedCapacity ? `${mark} no` : '- n/a';
    case 'quota': {
      if (!row.peak) return '- no peak';
      const ratios = (['rpm', 'tpm'] as const)
        .map((unit) => (row.peak?.[unit] ? row.capacity[unit] / row.peak[unit] : Infinity))
        .filter(Number.isFinite);
      return `${mark} ${Math.min(...ratios).toFixed(1)}x`;
    }
  }
}

export function formatReport(rows: readonly RedundancyRow[]): string {
  if (rows.length === 0) return 'No routes to check.\n';
  const table = rows.map((row) => [
    row.model,
    row.environment,
    row.useCase,
    row.pool ? `${row.pool}${row.critical ? '*' : ''}` : '-',
    ...CRITERIA.map((c) => cell(row, c)),
    row.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const out = [line(HEADERS), ...table.map(line)];

  const failing = rows.filter((r) => !r.pass);
  if (failing.length > 0) {
    out.push('', 'Single points of failure:');
    for (const row of failing) {
      for (const criterion of CRITERIA.filter((c) => !row.checks[c])) {
        out.push(`  ${row.model} / ${row.environment} / ${row.useCase} — ${criterion}: ${row.reasons[criterion]}`);
      }
    }
  }
  const passed = rows.length - failing.length;
  out.push('', `${rows.length} rows: ${passed} pass, ${failing.length} fail. (* = critical pool; quota is guaranteed capacity ÷ declared peak)`);
  return `${out.join('\n')}\n`;
}
