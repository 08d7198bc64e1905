/**
 * The builders of docs/design.md §2, so a route table written the way operators sketch it loads
 * as it is. They only produce the schema's input data; the schema decides what is valid.
 */
import type { ConfigInput } from './schema.js';
import type { RouteNodeInput } from './route-schema.js';

type Underscored<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}_${Underscored<Tail>}` : S;

/** `BedrockProvider.us_east_1()` for every region we know, and `BedrockProvider.region('xx-1')` for the rest. */
type RegionalBuilder<R extends string> = { readonly [K in Underscored<R>]: () => RouteNodeInput } & {
  readonly region: (name: string) => RouteNodeInput;
};

function regional<R extends string>(vendor: string, regions: readonly R[]): RegionalBuilder<R> {
  const builder: Record<string, (name?: string) => RouteNodeInput> = {
    region: (name?: string) => `${vendor}/${name ?? ''}`,
  };
  for (const region of regions) builder[region.replaceAll('-', '_')] = () => `${vendor}/${region}`;
  return builder as unknown as RegionalBuilder<R>;
}

const BEDROCK_REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'us-gov-west-1', 'ca-central-1', 'sa-east-1',
  'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-north-1', 'eu-south-1', 'eu-south-2',
  'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-south-2', 'ap-southeast-1', 'ap-southeast-2',
] as const;

const VERTEX_REGIONS = [
  'global', 'us-central1', 'us-east1', 'us-east4', 'us-east5', 'us-west1', 'us-west4',
  'europe-west1', 'europe-west3', 'europe-west4', 'europe-west9', 'asia-east1', 'asia-northeast1',
  'asia-southeast1', 'australia-southeast1',
] as const;

const AZURE_REGIONS = [
  'eastus', 'eastus2', 'westus', 'westus3', 'centralus', 'northcentralus', 'southcentralus', 'canadaeast',
  'brazilsouth', 'swedencentral', 'francecentral', 'germanywestcentral', 'uksouth', 'norwayeast',
  'switzerlandnorth', 'polandcentral', 'spaincentral', 'italynorth', 'japaneast', 'koreacentral',
  'australiaeast', 'southindia', 'southafricanorth',
] as const;

export const AnthropicProvider = (): RouteNodeInput => 'anthropic';
export const OpenAIProvider = (): RouteNodeInput => 'openai';
export const BedrockProvider = regional('bedrock', BEDROCK_REGIONS);
/** Vertex AI: Google serves Claude there, hence the name operators use. */
export const GoogleProvider = regional('vertex', VERTEX_REGIONS);
export const AzureProvider = regional('azure', AZURE_REGIONS);

/** Short names, as docs/design.md writes them in its weighted example. */
export const Anthropic = AnthropicProvider;
export const OpenAI = OpenAIProvider;
export const Bedrock = BedrockProvider;
export const Google = GoogleProvider;
export const Azure = AzureProvider;

export const LatencyBased = (...members: RouteNodeInput[]): RouteNodeInput => ({ LatencyBased: members });
export const Sequence = (...members: RouteNodeInput[]): RouteNodeInput => ({ Sequence: members });
/** Members alone (weight 1) or as `[member, weight]`; weights are also how a fixed percentage goes to a vendor. */
export const LoadBalanced = (...members: (RouteNodeInput | [RouteNodeInput, number])[]): RouteNodeInput => ({
  LoadBalanced: members,
});
export const Fallback = (model: string): RouteNodeInput => ({ Fallback: model });
/** With `percent`, that share of traffic always goes to `model`; without, only the excess this model cannot take. */
export const Spill = (model: string, options: { percent?: number } = {}): RouteNodeInput => ({ Spill: { model, ...options } });

export type RoutesInput = ConfigInput['routes'];

export const defineRoutes = (routes: RoutesInput): RoutesInput => routes;
export const defineConfig = (config: ConfigInput): ConfigInput => config;
