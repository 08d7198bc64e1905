/**
 * The Azure OpenAI adapter: the classic per-deployment URL,
 * `POST {baseUrl}/openai/deployments/{deployment}/chat/completions?api-version=…`, with the key in
 * an `api-key` header. Body, stream and error envelope are OpenAI's; the
 * Azure quirks (an empty-choices first chunk, codes such as "429" or `DeploymentNotFound`,
 * `retry-after-ms`) are handled by the shared decoder, error reader and classifier.
 */
import { CredentialsMissingError } from '../../domain/index.js';
import type { AdapterFactory } from '../types.js';
import { createChatCompletionsAdapter } from '../openai/adapter.js';

export const createAzureAdapter: AdapterFactory = (vendorRegion, deps) => {
  const base = vendorRegion.baseUrl.replace(/\/$/, '');
  return createChatCompletionsAdapter(vendorRegion, deps, {
    url: (deployment) => {
      const { apiVersion } = vendorRegion;
      // The config check requires it; like a missing key, it is a setup mistake, not a vendor fault.
      if (!apiVersion) throw new CredentialsMissingError(vendorRegion.id, 'no apiVersion in the config (Azure OpenAI needs one, e.g. 2024-10-21)');
      // An Azure deployment's vendor model id is the deployment's name, which sits in the path.
      const name = encodeURIComponent(deployment.vendorModelId);
      return `${base}/openai/deployments/${name}/chat/completions?api-version=${encodeURIComponent(apiVersion)}`;
    },
    authHeaders: (apiKey) => ({ 'api-key': apiKey }),
  });
};
