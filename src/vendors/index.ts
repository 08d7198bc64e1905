/**
 * vendors: one adapter per wire protocol (anthropic, openai, azure, bedrock, vertex) behind one
 * interface, over injected undici dispatchers, with every failure classified by the error policy;
 * plus the translations to and from the canonical format that the simulator and gateway share.
 * Imports src/domain, src/config, src/observability.
 */
import type { Vendor } from '../domain/index.js';
import { createAnthropicAdapter } from './anthropic/adapter.js';
import { createAzureAdapter } from './azure/adapter.js';
import { createBedrockAdapter } from './bedrock/adapter.js';
import { createOpenAIAdapter } from './openai/adapter.js';
import { createVertexAdapter } from './vertex/adapter.js';
import type { AdapterDeps, AdapterFactory, VendorAdapter } from './types.js';
import type { VendorRegion } from '../config/index.js';

export const ADAPTERS: Record<Vendor, AdapterFactory> = {
  anthropic: createAnthropicAdapter,
  openai: createOpenAIAdapter,
  azure: createAzureAdapter,
  bedrock: createBedrockAdapter,
  vertex: createVertexAdapter,
};

export function createAdapter(vendorRegion: VendorRegion, deps: AdapterDeps): VendorAdapter {
  return ADAPTERS[vendorRegion.protocol](vendorRegion, deps);
}

export type { AdapterDeps, AdapterFactory, CallMetrics, CallOptions, CapacityHints, Completion, SecretResolver, VendorAdapter, VendorStream } from './types.js';
export { connectionsByOrigin, createVendorDispatcher, DEFAULT_FIRST_BYTE_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, STOPPED } from './http.js';
export { classifyHttpFailure, classifyStreamError } from './classify.js';
export { capacityHints, retryAfterMs } from './headers.js';
