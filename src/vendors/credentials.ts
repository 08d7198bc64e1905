/**
 * Reading a vendor-region's credentials for a call. A credential that is not where the config says
 * is our configuration's fault, not the vendor's: it becomes a CredentialsMissingError, which
 * fails over and marks the vendor-region unusable, instead of a plain Error retried as a fault.
 * Messages name the credential and where it was looked for, never a value.
 */
import { CredentialsMissingError } from '../domain/index.js';
import type { VendorRegion } from '../config/index.js';
import type { SecretResolver } from './types.js';

export type CredentialName = keyof VendorRegion['credentials'];

export async function readCredential(vendorRegion: VendorRegion, secrets: SecretResolver, name: CredentialName): Promise<string> {
  const source = vendorRegion.credentials[name];
  if (!source) throw new CredentialsMissingError(vendorRegion.id, `no ${name} credential in the config`);
  let value: string;
  try {
    value = await secrets(source);
  } catch (error) {
    throw new CredentialsMissingError(vendorRegion.id, `the ${name} credential is not available: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (value === '') throw new CredentialsMissingError(vendorRegion.id, `the ${name} credential (${'env' in source ? `$${source.env}` : source.file}) is empty`);
  return value;
}

/** An optional credential (a Bedrock session token): absent or empty means "not used". */
export async function readOptionalCredential(vendorRegion: VendorRegion, secrets: SecretResolver, name: CredentialName): Promise<string> {
  if (!vendorRegion.credentials[name]) return '';
  try {
    return await readCredential(vendorRegion, secrets, name);
  } catch (error) {
    if (error instanceof CredentialsMissingError && /is empty$/.test(error.message)) return '';
    throw error;
  }
}
