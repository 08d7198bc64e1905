/**
 * config: the config schema (the single source of config types), its builders, loading from
 * .ts/.js/.json/.yaml files, path-naming errors, and printing with secrets masked.
 * Imports src/domain only; everything but machines/ may import it.
 */
export { ConfigSchema, ConfigInputSchema, SecretSourceSchema, QuotaSchema } from './schema.js';
export type { Config, ConfigInput } from './schema.js';
export type { RouteNode, RouteNodeInput, WeightedRoute } from './route-schema.js';
export type { Deployment, Pool, ResolvedConfig, RouteTable, VendorRegion } from './resolve.js';
export { defaultBaseUrl } from './resolve.js';
export { routeOtherModels, routeVendorRegions, walkRoute } from './route-tree.js';
export { parseConfig } from './parse.js';
export { formatPath } from './issues.js';
export { CONFIG_ENV_VARIABLE, DEFAULT_CONFIG_FILE, exampleConfigPath, findConfigPath, loadConfig, readConfigData } from './load.js';
export type { ConfigLocation } from './load.js';
export { configJsonSchema } from './json-schema.js';
export { maskConfig } from './mask.js';
export { missingCredentials, secretResolver } from './secrets.js';
export { NKeyPublicSchema, RouterNodeIdSchema } from './routers.js';
export type { TrustedKeys } from './routers.js';
export { ApiKeySchema, GatewaySchema, type ApiKeyEntry, type GatewayConfig } from './gateway.js';
export { loadApiKeysFile } from './api-keys-file.js';
export { loadTrustedKeys } from './trusted-keys.js';
export type { SecretSource } from './secrets.js';
export * from './builders.js';
