/**
 * How long validating a config and computing the single-point-of-failure report take: on the seed
 * config, and on a synthetic large fleet (many vendor-regions × models), since config reloads and
 * `switchyard check` in CI should stay well under a second.
 */
import { fileURLToPath } from 'node:url';
import { parseConfig, readConfigData } from '../src/config/index.js';
import { redundancyReport } from '../src/redundancy/index.js';
import { measure, type Summary } from './stats.js';

export interface Row extends Summary {
  case: string;
  vendorRegions: number;
  models: number;
  rows: number;
}

/** A fleet of `regions` Bedrock regions plus Anthropic for each of `models` Claude-like models. */
function syntheticFleet(models: number, regions: number): unknown {
  const quota = { rpm: 1000, tpm: 1_000_000, concurrency: 50 };
  const names = Array.from({ length: models }, (_, i) => `model-${i}`);
  const regionIds = Array.from({ length: regions }, (_, i) => `bedrock/region-${i}`);
  const deployments = Object.fromEntries(names.map((m) => [m, { vendorModelId: m, quota }]));
  const aws = { accessKeyId: { env: 'A' }, secretAccessKey: { env: 'S' } };
  return {
    vendorRegions: {
      anthropic: { credentials: { apiKey: { env: 'K' } }, deployments },
      ...Object.fromEntries(regionIds.map((id) => [id, { credentials: aws, deployments }])),
    },
    models: Object.fromEntries(names.map((m, i) => [m, i + 1 < models ? { fallback: names[i + 1] } : {}])),
    routes: Object.fromEntries(
      names.map((m) => [
        m,
        {
          prod: { critical: { LatencyBased: ['anthropic', ...regionIds] }, otherwise: { LoadBalanced: regionIds } },
          test: { Sequence: ['anthropic', regionIds[0]] },
        },
      ]),
    ),
    pools: {
      fin: { priority: 'critical', useCases: ['critical'], shares: { '*': 50 } },
      general: { priority: 'standard', useCases: ['otherwise'], shares: { '*': 50 } },
    },
    peakLoad: names.map((m) => ({ model: m, environment: 'prod', useCase: 'critical', rpm: 100 })),
  };
}

export async function run(): Promise<Row[]> {
  const seed = await readConfigData(fileURLToPath(new URL('../examples/seed.config.yaml', import.meta.url)));
  const cases: [string, unknown][] = [
    ['seed: validate', seed],
    ['20 models × 21 vendor-regions: validate', syntheticFleet(20, 20)],
  ];
  const rows: Row[] = [];
  for (const [name, data] of cases) {
    const config = parseConfig(data);
    const shape = {
      vendorRegions: Object.keys(config.vendorRegions).length,
      models: Object.keys(config.models).length,
      rows: redundancyReport(config).length,
    };
    rows.push({ case: name, ...shape, ...measure(() => parseConfig(data), { samples: name.startsWith('seed') ? 500 : 50 }) });
    rows.push({
      case: name.replace('validate', 'SPOF report'),
      ...shape,
      ...measure(() => redundancyReport(config), { samples: name.startsWith('seed') ? 500 : 50 }),
    });
  }
  return rows;
}
