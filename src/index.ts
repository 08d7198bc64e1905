/**
 * The public entry of the `switchyard` package: the config builders (what a switchyard.config.ts
 * imports), the config types, and the domain vocabulary and errors.
 */
export {
  Anthropic,
  AnthropicProvider,
  Azure,
  AzureProvider,
  Bedrock,
  BedrockProvider,
  Fallback,
  Google,
  GoogleProvider,
  LatencyBased,
  LoadBalanced,
  OpenAI,
  OpenAIProvider,
  Sequence,
  Spill,
  defineConfig,
  defineRoutes,
  parseConfig,
} from './config/index.js';
export type { Config, ConfigInput, RouteNode, RouteNodeInput, RoutesInput } from './config/index.js';
export * from './domain/index.js';
export { createClient, ClientError } from './client/index.js';
export type { SwitchyardClient, SwitchyardStream } from './client/index.js';
