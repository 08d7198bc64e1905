/**
 * The wire form of a Failure (errors.ts): what a router node sends when a request fails and what
 * the client checks on receipt. An unknown code does not parse, so a typo is a test failure, not a
 * silent `internal`.
 */
import { z } from 'zod';
import { ERROR_CODES, type Failure } from './errors.js';

export const ErrorCodeSchema = z.enum(ERROR_CODES);

export const FailureSchema = z.strictObject({
  code: ErrorCodeSchema,
  message: z.string().max(4_096),
  retryable: z.boolean(),
  retryAfterMs: z.number().nonnegative().optional(),
  delivered: z.string().optional(),
  field: z.string().max(256).optional(),
}) satisfies z.ZodType<Failure>;
