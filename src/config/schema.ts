/**
 * The one zod schema of a Switchyard config: the single source of the config types. Structure is
 * checked here; references across sections (a route naming an undeclared vendor-region, a Fallback
 * cycle) are checked in references.ts, and resolve.ts turns the checked input into the resolved
 * config every other part reads.
 */
import { z } from 'zod';
import { PRIORITIES } from '../domain/index.js';
import { GatewaySchema } from './gateway.js';
import {
  EnvironmentNameSchema,
  ModelNameSchema,
  RoutesSchema,
  UseCaseNameSchema,
} from './route-schema.js';
import { checkReferences } from './references.js';
import { RoutersSchema } from './routers.js';
import { resolveConfig } from './resolve.js';

const EnvVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name such as ANTHROPIC_API_KEY' });

/** Where a secret comes from. A literal secret is not accepted: configs get committed and printed. */
export const SecretSourceSchema = z.union(
  [
    z.strictObject({ env: EnvVarName.describe('Name of the environment variable holding the secret') }),
    z.strictObject({ file: z.string().min(1).describe('Path of a file holding the secret') }),
  ],
  { error: 'expected { env: VARIABLE_NAME } or { file: PATH }; secrets are never written in the config itself' },
);

const CredentialsSchema = z
  .strictObject({
    apiKey: SecretSourceSchema.optional().describe('API key (anthropic, openai, azure)'),
    accessKeyId: SecretSourceSchema.optional().describe('AWS access key id (bedrock)'),
    secretAccessKey: SecretSourceSchema.optional().describe('AWS secret access key (bedrock)'),
    sessionToken: SecretSourceSchema.optional().describe('AWS session token (bedrock, optional)'),
    serviceAccount: SecretSourceSchema.optional().describe('Google service-account JSON key (vertex)'),
  })
  .describe('Where each credential of this vendor-region comes from');

export const QuotaSchema = z
  .strictObject({
    rpm: z.number().int().positive().describe('Requests per minute the account allows'),
    tpm: z.number().int().positive().describe('Tokens per minute the account allows'),
    concurrency: z.number().int().positive().describe('Requests in flight at once the account allows'),
  })
  .describe('Account quota of one deployment');

const DeploymentSchema = z.strictObject({
  vendorModelId: z.string().min(1).describe("The vendor's own id of the model, e.g. anthropic.claude-sonnet-4-20250514-v1:0"),
  quota: QuotaSchema,
});

const VendorRegionSchema = z
  .strictObject({
    baseUrl: z.url().optional().describe("Base URL of the vendor's API; defaults to the vendor's public endpoint (required for azure)"),
    credentials: CredentialsSchema,
    deployments: z
      .record(ModelNameSchema, DeploymentSchema)
      .describe('Logical model → the vendor model id and account quota at this vendor-region'),
    apiVersion: z.string().min(1).optional().describe('Azure OpenAI api-version'),
    projectId: z.string().min(1).optional().describe('Google Cloud project id (vertex)'),
    tokenUrl: z.url().optional().describe('OAuth token endpoint (vertex); defaults to Google\'s'),
  })
  .describe('One vendor endpoint in one region, with its own account quota');

const ModelSchema = z
  .strictObject({
    family: z.string().min(1).optional().describe('Model family, e.g. claude or gpt; decides which vendors can resume a stream'),
    fallback: ModelNameSchema.optional().describe('Model whose route takes over, in every environment and use case, when all of this model\'s deployments fail'),
    contextTokens: z.number().int().positive().optional().describe('Context window in tokens'),
  })
  .describe('A logical model');

const PoolSchema = z
  .strictObject({
    priority: z.enum(PRIORITIES).describe('critical pools keep their reserved share; lower pools never spend it'),
    useCases: z.array(UseCaseNameSchema).min(1).describe('Use cases served from this pool ("otherwise" for all the rest)'),
    shares: z
      .record(z.string().min(1), z.number().min(0).max(100))
      .describe('Deployment id (model@vendor-region) or "*" for every deployment → percent of its quota reserved for this pool'),
    mayBorrow: z.boolean().optional().describe('May spend unused capacity of lower pools; defaults to true for critical pools'),
  })
  .describe('A slice of vendor capacity reserved for some use cases');

const TenantSchema = z
  .strictObject({
    maxShare: z.number().gt(0).max(100).default(100).describe('Most of a contended pool this tenant may take, in percent'),
    maxPriority: z.enum(PRIORITIES).default('standard').describe('Highest priority this tenant may ask for'),
  })
  .describe('A customer or process on whose behalf requests run');

const CapacitySchema = z
  .strictObject({
    defaultTenant: z
      .string()
      .min(1)
      .default('default')
      .describe('Tenant whose limits apply to requests that name no tenant, or one not in tenants; unconfigured, it may claim up to standard priority'),
    queueWaitMs: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .default(2_000)
      .describe('Longest a request waits for capacity, highest priority first, before it is refused rate_limited (never past its deadline)'),
  })
  .describe('How admission treats unknown tenants and requests that find no capacity');

const HedgeSchema = z
  .strictObject({
    after: z
      .union([z.literal('p95'), z.number().int().positive().max(600_000)])
      .default('p95')
      .describe("When a second attempt starts if the first has no first token: 'p95' (the deployment's recent p95 time to first token) or milliseconds"),
    maxShare: z.number().min(0).max(100).default(10).describe('Hedges allowed, as a percent of this use case\'s requests, so they cannot double a slow vendor\'s load'),
  })
  .describe('Hedging for one use case: a second attempt on the next deployment of the same model, the loser cancelled at the first token');

const CrawlGuardSchema = z
  .strictObject({
    belowShare: z.number().min(0).max(100).default(25).describe("A stream under this percent of its deployment's usual tokens per second is crawling; 0 turns the guard off"),
    forMs: z.number().int().positive().max(600_000).default(3_000).describe('How long a stream must stay that slow before it counts'),
  })
  .describe('Crawling streams: resumed elsewhere where the model family takes a prefill, else finished as they are, and the deployment marked degraded');

const PeakLoadSchema = z
  .strictObject({
    model: ModelNameSchema,
    environment: EnvironmentNameSchema.optional().describe('Environment; all environments when absent'),
    useCase: UseCaseNameSchema,
    rpm: z.number().positive().optional().describe('Peak requests per minute'),
    tpm: z.number().positive().optional().describe('Peak tokens per minute'),
  })
  .refine((p) => p.rpm !== undefined || p.tpm !== undefined, { error: 'expected rpm, tpm or both' })
  .describe('Declared peak load of one model and use case');

const FloorsOverrideSchema = z.strictObject({
  model: ModelNameSchema.optional(),
  environment: EnvironmentNameSchema.optional(),
  useCase: UseCaseNameSchema.optional(),
  minVendors: z.number().int().min(1).optional(),
  minRegions: z.number().int().min(1).optional(),
  requireFallback: z.boolean().optional(),
  requireIsolatedCapacity: z.boolean().optional(),
});

const RedundancySchema = z
  .strictObject({
    minVendors: z.number().int().min(1).default(2).describe('Distinct vendors every route needs'),
    minRegions: z.number().int().min(1).default(2).describe('Distinct regions every route needs'),
    critical: z
      .strictObject({
        requireFallback: z.boolean().default(true).describe('Use cases of a critical pool need a cross-model fallback'),
        requireIsolatedCapacity: z.boolean().default(true).describe('Use cases of a critical pool need reserved capacity'),
      })
      .prefault({}),
    overrides: z
      .array(FloorsOverrideSchema)
      .default([])
      .describe('Floors for matching model / environment / use case rows; later entries win'),
  })
  .describe('The floors the single-point-of-failure report checks');

/** What a config file holds, before references are checked. */
export const ConfigInputSchema = z.strictObject({
  $schema: z.string().optional().describe('JSON Schema for editors; ignored'),
  vendorRegions: z
    .record(z.string().min(1), VendorRegionSchema)
    .describe('Vendor-region id (anthropic, bedrock/us-east-1, vertex/us-east5, azure/eastus, ...) → its endpoint'),
  models: z.record(ModelNameSchema, ModelSchema).describe('Logical models callers ask for'),
  routes: RoutesSchema,
  pools: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), PoolSchema).default({}),
  tenants: z.record(z.string().min(1), TenantSchema).default({}),
  capacity: CapacitySchema.prefault({}),
  crawlGuard: CrawlGuardSchema.prefault({}),
  hedge: z.record(UseCaseNameSchema, HedgeSchema).default({}).describe('Use case → hedging; off for use cases not named here'),
  peakLoad: z.array(PeakLoadSchema).default([]),
  bufferFactor: z.number().min(1).max(10).default(2).describe('Quota must cover the declared peak times this factor'),
  redundancy: RedundancySchema.prefault({}),
  routers: RoutersSchema.prefault({}),
  gateway: GatewaySchema.prefault({}),
});

export type ConfigInput = z.input<typeof ConfigInputSchema>;
export type ParsedConfigInput = z.output<typeof ConfigInputSchema>;

/** The whole config: structure, then references, then resolution. */
export const ConfigSchema = ConfigInputSchema.transform((input, ctx) => {
  const issues = checkReferences(input);
  for (const issue of issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, input });
  return issues.length > 0 ? z.NEVER : resolveConfig(input);
});

export type Config = z.output<typeof ConfigSchema>;
