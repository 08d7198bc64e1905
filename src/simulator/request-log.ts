/** The last requests each simulated vendor received, credentials masked, so tests can check what arrived. */
import type { IncomingMessage } from 'node:http';

export interface LoggedRequest {
  at: number;
  vendorRegion: string;
  method: string;
  path: string;
  headers: Record<string, string>;
}

const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'x-amz-security-token']);
const CAPACITY = 1000;

export class RequestLog {
  private readonly entries: LoggedRequest[] = [];

  record(vendorRegion: string, req: IncomingMessage, url: URL): void {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      headers[name] = SECRET_HEADERS.has(name) ? '****' : Array.isArray(value) ? value.join(', ') : value;
    }
    this.entries.push({ at: Date.now(), vendorRegion, method: req.method ?? 'GET', path: url.pathname + url.search, headers });
    if (this.entries.length > CAPACITY) this.entries.shift();
  }

  list(vendorRegion?: string): LoggedRequest[] {
    return vendorRegion ? this.entries.filter((e) => e.vendorRegion === vendorRegion) : [...this.entries];
  }

  clear(): void {
    this.entries.length = 0;
  }
}
