/**
 * The `routers` section: which router nodes this fleet trusts (node id → its public NKey, or
 * several while a key is rotated), and where replies may go. Gossip from any other key is
 * dropped (src/transport/gossip-signing.ts). The map may also live in a file of its own
 * (`trustedKeysFile`, JSON or YAML, read by trusted-keys.ts), so rotating a key need not touch
 * the rest of the config.
 */
import { fromPublic } from '@nats-io/nkeys';
import { z } from 'zod';

/** A node id is a subject token: `sy.node.<id>`. */
export const RouterNodeIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected a node id of 1-64 letters, digits, _ or -' });

export const NKeyPublicSchema = z
  .string()
  .regex(/^U[A-Z2-7]{55}$/, { error: 'expected a public user NKey: U and 55 more letters A-Z or digits 2-7 (the public key, never the SU... seed)' })
  .refine(
    (key) => {
      try {
        fromPublic(key);
        return true;
      } catch {
        return false;
      }
    },
    { error: 'not a valid NKey: its checksum does not match' },
  );

export const TrustedKeysSchema = z
  .record(RouterNodeIdSchema, z.union([NKeyPublicSchema, z.array(NKeyPublicSchema).min(1).max(4)]))
  .superRefine((map, ctx) => {
    const owner = new Map<string, string>();
    for (const [node, keys] of Object.entries(map)) {
      for (const key of typeof keys === 'string' ? [keys] : keys) {
        const other = owner.get(key);
        if (other !== undefined) ctx.addIssue({ code: 'custom', path: [node], message: `the key ${key} is also ${other}'s; each key may speak for one node` });
        owner.set(key, node);
      }
    }
  });

export const RoutersSchema = z
  .strictObject({
    trustedKeys: TrustedKeysSchema.default({}).describe("Router node id → its public NKey (U...), or a list of keys while one is rotated; only these nodes' gossip counts"),
    trustedKeysFile: z.string().min(1).optional().describe('A JSON or YAML file holding more of the same map, relative to this config'),
    replyPrefixes: z
      .array(z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.$/, { error: 'expected a subject prefix ending in a dot, e.g. _INBOX.' }))
      .min(1)
      .default(['_INBOX.'])
      .describe('Reply subjects a router node answers must start with one of these; give each application its own inbox prefix under one of them'),
    maxInFlight: z
      .number()
      .int()
      .positive()
      .max(1_000_000)
      .default(1_000)
      .describe('Requests one router node holds at once; beyond it the node answers overloaded with a retry-after, and the queue group spreads the rest'),
  })
  .describe('The router fleet: whom its nodes trust, and where they answer');

/** Node id → keys, one list per node. */
export type TrustedKeys = Record<string, string[]>;

export function normalizeTrustedKeys(map: z.output<typeof TrustedKeysSchema>): TrustedKeys {
  return Object.fromEntries(Object.entries(map).map(([node, keys]) => [node, typeof keys === 'string' ? [keys] : keys]));
}
