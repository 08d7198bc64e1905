/**
 * Reading API keys kept apart from the fleet's config (`switchyard gateway --api-keys FILE`):
 * keys come and go more often than routes, and the gateway's operators may not own the config.
 * The file holds the same map as `gateway.apiKeys`, checked as strictly, against the same config.
 */
import { ConfigError } from '../domain/index.js';
import { checkGatewayReferences, GatewaySchema, type ApiKeyEntry } from './gateway.js';
import { formatPath, fromZodIssues } from './issues.js';
import { readConfigData } from './load.js';
import type { Config } from './schema.js';

export async function loadApiKeysFile(file: string, config: Config): Promise<Record<string, ApiKeyEntry>> {
  const parsed = GatewaySchema.safeParse({ apiKeys: await readConfigData(file) });
  if (!parsed.success) throw new ConfigError(fromZodIssues(parsed.error.issues), file);
  const known = { tenants: Object.keys(config.tenants), models: Object.keys(config.models), defaultTenant: config.capacity.defaultTenant };
  const issues = checkGatewayReferences(parsed.data, known);
  // Paths as the file has them: `apiKeys.<name>...`, without the config's `gateway.`.
  if (issues.length > 0) throw new ConfigError(issues.map((i) => ({ path: formatPath(i.path.slice(1)), message: i.message })), file);
  return parsed.data.apiKeys;
}
