/** The JSON Schema of a config file, for editors (`$schema` in YAML and JSON configs). */
import { z } from 'zod';
import { EXTENSION_KEY } from './parse.js';
import { ConfigInputSchema } from './schema.js';

export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ConfigInputSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }),
    // Top-level x- keys are anchors for reuse; parseConfig drops them before validation.
    patternProperties: { [EXTENSION_KEY.source]: {} },
    title: 'Switchyard config',
    description: 'Vendor-regions, models, routes, pools, tenants and redundancy floors of a Switchyard deployment.',
  };
}
