import { describe, expect, it } from 'vitest';
import {
  Anthropic,
  AnthropicProvider,
  AzureProvider,
  Bedrock,
  BedrockProvider,
  Fallback,
  GoogleProvider,
  LatencyBased,
  LoadBalanced,
  OpenAIProvider,
  Sequence,
  Spill,
  defineRoutes,
} from '../../src/config/index.js';

describe('route builders', () => {
  it('name vendor-regions the way route tables write them', () => {
    expect(AnthropicProvider()).toBe('anthropic');
    expect(OpenAIProvider()).toBe('openai');
    expect(BedrockProvider.us_east_1()).toBe('bedrock/us-east-1');
    expect(BedrockProvider.ap_southeast_2()).toBe('bedrock/ap-southeast-2');
    expect(GoogleProvider.us_east5()).toBe('vertex/us-east5');
    expect(AzureProvider.eastus()).toBe('azure/eastus');
    expect(AzureProvider.region('qatarcentral')).toBe('azure/qatarcentral');
  });

  it('produce only the schema data, nesting as written', () => {
    const routes = defineRoutes({
      CLAUDE_SONNET_4: {
        us_prod: LatencyBased(
          Sequence(AnthropicProvider(), BedrockProvider.us_west_2()),
          LoadBalanced([Anthropic(), 90], [Bedrock.us_east_1(), 10]),
          Spill('gpt-4.1', { percent: 5 }),
          Fallback('gpt-4.1'),
        ),
      },
    });
    expect(routes).toEqual({
      CLAUDE_SONNET_4: {
        us_prod: {
          LatencyBased: [
            { Sequence: ['anthropic', 'bedrock/us-west-2'] },
            { LoadBalanced: [['anthropic', 90], ['bedrock/us-east-1', 10]] },
            { Spill: { model: 'gpt-4.1', percent: 5 } },
            { Fallback: 'gpt-4.1' },
          ],
        },
      },
    });
    // Plain data survives a JSON round trip, which is what makes YAML and JSON configs equivalent.
    expect(JSON.parse(JSON.stringify(routes))).toEqual(routes);
  });
});
