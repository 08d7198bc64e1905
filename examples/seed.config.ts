/**
 * The seed config: the route table of DESIGN.md section 2 exactly as written there, completed with
 * a fleet, a gpt-4.1 model as cross-model fallback for the flagship use case, a critical pool `fin`
 * for conversation_serving and a standard pool `general`. examples/seed.config.yaml is the same
 * config in YAML; a test keeps the two equal.
 */
import {
  AnthropicProvider,
  AzureProvider,
  BedrockProvider,
  GoogleProvider,
  LatencyBased,
  LoadBalanced,
  OpenAIProvider,
  Sequence,
  defineConfig,
  defineRoutes,
} from 'switchyard';

// DESIGN.md section 2, as written there.
const claudeRoutes = defineRoutes({
  CLAUDE_SONNET_4: {
    us_prod: {
      conversation_serving: LatencyBased(
        GoogleProvider.us_east5(), AnthropicProvider(), BedrockProvider.us_east_1(),
      ),
      otherwise: LoadBalanced(AnthropicProvider(), BedrockProvider.us_west_2()),
    },
    test: Sequence(AnthropicProvider(), BedrockProvider.us_west_2()),
  },
});

// Where Claude's traffic goes when every Claude deployment fails (models.claude-sonnet-4.fallback).
const gptRoutes = defineRoutes({
  GPT_4_1: {
    us_prod: LatencyBased(OpenAIProvider(), AzureProvider.eastus()),
    test: Sequence(OpenAIProvider(), AzureProvider.eastus()),
  },
});

const sonnetQuota = { rpm: 1_000, tpm: 2_000_000, concurrency: 100 };
const awsCredentials = {
  accessKeyId: { env: 'AWS_ACCESS_KEY_ID' },
  secretAccessKey: { env: 'AWS_SECRET_ACCESS_KEY' },
  sessionToken: { env: 'AWS_SESSION_TOKEN' },
};

export default defineConfig({
  vendorRegions: {
    anthropic: {
      credentials: { apiKey: { env: 'ANTHROPIC_API_KEY' } },
      deployments: {
        'claude-sonnet-4': { vendorModelId: 'claude-sonnet-4-20250514', quota: { rpm: 2_000, tpm: 4_000_000, concurrency: 200 } },
      },
    },
    'bedrock/us-east-1': {
      credentials: awsCredentials,
      deployments: {
        'claude-sonnet-4': { vendorModelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0', quota: sonnetQuota },
      },
    },
    'bedrock/us-west-2': {
      credentials: awsCredentials,
      deployments: {
        'claude-sonnet-4': { vendorModelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0', quota: sonnetQuota },
      },
    },
    'vertex/us-east5': {
      credentials: { serviceAccount: { env: 'GOOGLE_APPLICATION_CREDENTIALS' } },
      projectId: 'switchyard-example',
      deployments: {
        'claude-sonnet-4': { vendorModelId: 'claude-sonnet-4@20250514', quota: sonnetQuota },
      },
    },
    openai: {
      credentials: { apiKey: { env: 'OPENAI_API_KEY' } },
      deployments: {
        'gpt-4.1': { vendorModelId: 'gpt-4.1-2025-04-14', quota: { rpm: 5_000, tpm: 2_000_000, concurrency: 200 } },
      },
    },
    'azure/eastus': {
      baseUrl: 'https://switchyard-example.openai.azure.com',
      apiVersion: '2024-10-21',
      credentials: { apiKey: { env: 'AZURE_OPENAI_API_KEY' } },
      deployments: {
        'gpt-4.1': { vendorModelId: 'gpt-4.1', quota: { rpm: 1_000, tpm: 1_000_000, concurrency: 100 } },
      },
    },
  },
  models: {
    'claude-sonnet-4': { family: 'claude', fallback: 'gpt-4.1', contextTokens: 200_000 },
    'gpt-4.1': { family: 'gpt', contextTokens: 1_000_000 },
  },
  routes: { ...claudeRoutes, ...gptRoutes },
  pools: {
    fin: {
      priority: 'critical',
      useCases: ['conversation_serving'],
      shares: {
        'claude-sonnet-4@vertex/us-east5': 60,
        'claude-sonnet-4@anthropic': 60,
        'claude-sonnet-4@bedrock/us-east-1': 60,
        'gpt-4.1@openai': 50,
        'gpt-4.1@azure/eastus': 50,
      },
    },
    general: {
      priority: 'standard',
      useCases: ['otherwise'],
      shares: { '*': 40 },
    },
  },
  tenants: {
    'acme-corp': { maxShare: 50, maxPriority: 'critical' },
    'translation-worker': { maxShare: 30, maxPriority: 'batch' },
  },
  peakLoad: [
    { model: 'claude-sonnet-4', environment: 'us_prod', useCase: 'conversation_serving', rpm: 600, tpm: 1_200_000 },
    { model: 'claude-sonnet-4', environment: 'us_prod', useCase: 'otherwise', rpm: 300, tpm: 600_000 },
  ],
  bufferFactor: 2,
});
