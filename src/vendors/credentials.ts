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

type Reader = typeof readCredential;

interface Kept {
  value: string;
  readAt: number;
  refreshing: boolean;
}

/**
 * A vendor-region's credentials as its calls need them: read once, then from memory. Read per
 * call, every request waited on the resolver (a file read, for a file source) and the promise
 * hops that came with it before its vendor request could leave, and the node's other writes of
 * the turn went first (about 0.15 ms of each request's latency, docs/architecture.md, "The hot
 * path"). A kept value is read again in the background at most every `refreshMs`, so a rotated
 * key takes effect within seconds; a read that fails drops it, so the next call meets the
 * error, as it would have without the keeping.
 */
export class VendorCredentials {
  private readonly kept = new Map<CredentialName, Kept>();
  private readonly reading = new Map<CredentialName, Promise<string>>();

  constructor(
    private readonly vendorRegion: VendorRegion,
    private readonly secrets: SecretResolver,
    private readonly options: { refreshMs?: number; now?: () => number } = {},
  ) {}

  /** The credential: at once when kept (no promise to wait on), else once read. */
  get(name: CredentialName): string | Promise<string> {
    return this.keep(name, readCredential);
  }

  /** An optional credential, as readOptionalCredential reads it ('' when not used). */
  optional(name: CredentialName): string | Promise<string> {
    return this.keep(name, readOptionalCredential);
  }

  private keep(name: CredentialName, reader: Reader): string | Promise<string> {
    const kept = this.kept.get(name);
    if (!kept) return this.reading.get(name) ?? this.read(name, reader);
    if (!kept.refreshing && this.now() - kept.readAt >= (this.options.refreshMs ?? CREDENTIAL_REFRESH_MS)) this.refresh(name, kept, reader);
    return kept.value;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The first read; calls that come meanwhile wait on the same one. */
  private read(name: CredentialName, reader: Reader): Promise<string> {
    const reading = reader(this.vendorRegion, this.secrets, name).then(
      (value) => {
        this.reading.delete(name);
        this.kept.set(name, { value, readAt: this.now(), refreshing: false });
        return value;
      },
      (error: unknown) => {
        this.reading.delete(name);
        throw error;
      },
    );
    this.reading.set(name, reading);
    return reading;
  }

  private refresh(name: CredentialName, kept: Kept, reader: Reader): void {
    kept.refreshing = true;
    reader(this.vendorRegion, this.secrets, name).then(
      (value) => this.kept.set(name, { value, readAt: this.now(), refreshing: false }),
      () => this.kept.delete(name),
    );
  }
}
