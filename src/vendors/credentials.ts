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

/** How often a kept credential is read again, in the background, so a rotated key file takes effect. */
export const CREDENTIAL_REFRESH_MS = 5_000;

export interface KeptOptions {
  refreshMs?: number;
  now?: () => number;
}

/**
 * A secret read once and then kept (one credential, or a set that must change together, as an
 * AWS key pair). Read per call, every request waited on the resolver (a file read, for a file
 * source) and the promise hops that came with it before its vendor request could leave, behind
 * the node's other writes of the turn: traced at 250 requests/s, the vendor request left 0.40 ms
 * after the request arrived, 0.23 ms with the key kept (docs/architecture.md, "The hot path").
 * Past `refreshMs` the kept value is still given while it is read again in the background, so a
 * rotated key takes effect within seconds; past twice that (a vendor-region nobody called for a
 * while) the call waits for a fresh read rather than sign with a key of any age. A read that
 * fails drops the value, so the next call meets the error, as it would without the keeping.
 */
export class KeptSecret<T> {
  private kept: { value: T; readAt: number } | undefined;
  private reading: Promise<T> | undefined;
  private refreshing = false;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly options: KeptOptions = {},
  ) {}

  /** The secret: at once when kept and fresh enough (no promise to wait on), else once read. */
  get(): T | Promise<T> {
    const refreshMs = this.options.refreshMs ?? CREDENTIAL_REFRESH_MS;
    const age = this.kept ? this.now() - this.kept.readAt : Infinity;
    if (this.kept && age < 2 * refreshMs) {
      if (age >= refreshMs && !this.refreshing) this.refresh();
      return this.kept.value;
    }
    // Calls that come during a read wait on the same one.
    return this.reading ?? this.readNow();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private readNow(): Promise<T> {
    const reading = this.read().then(
      (value) => {
        this.reading = undefined;
        this.kept = { value, readAt: this.now() };
        return value;
      },
      (error: unknown) => {
        this.reading = undefined;
        this.kept = undefined;
        throw error;
      },
    );
    this.reading = reading;
    return reading;
  }

  private refresh(): void {
    this.refreshing = true;
    this.read().then(
      (value) => {
        this.refreshing = false;
        this.kept = { value, readAt: this.now() };
      },
      () => {
        this.refreshing = false;
        this.kept = undefined;
      },
    );
  }
}

/** A vendor-region's credentials, each kept (KeptSecret). */
export class VendorCredentials {
  private readonly secrets = new Map<CredentialName, KeptSecret<string>>();

  constructor(
    private readonly vendorRegion: VendorRegion,
    private readonly resolver: SecretResolver,
    private readonly options: KeptOptions = {},
  ) {}

  /** The credential: at once when kept, else once read. */
  get(name: CredentialName): string | Promise<string> {
    return this.keep(name, readCredential);
  }

  /** An optional credential, as readOptionalCredential reads it ('' when not used). */
  optional(name: CredentialName): string | Promise<string> {
    return this.keep(name, readOptionalCredential);
  }

  private keep(name: CredentialName, reader: typeof readCredential): string | Promise<string> {
    let secret = this.secrets.get(name);
    if (!secret) this.secrets.set(name, (secret = new KeptSecret(() => reader(this.vendorRegion, this.resolver, name), this.options)));
    return secret.get();
  }
}
