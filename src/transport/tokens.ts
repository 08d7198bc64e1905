/** Random tokens for what the client makes up (inbox subjects, caller tokens): 144 bits, base64url. */
import { randomBytes } from 'node:crypto';

export function randomToken(): string {
  return randomBytes(18).toString('base64url');
}
