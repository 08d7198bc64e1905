/**
 * Random tokens for what Switchyard makes up on the bus (inbox subjects, caller tokens): 144 bits,
 * base64url, so a subject token and hopeless to guess; never a counter or a nuid.
 */
import { randomBytes } from 'node:crypto';

export function randomToken(): string {
  return randomBytes(18).toString('base64url');
}
