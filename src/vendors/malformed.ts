/** A stream event or frame that does not parse or is not the documented shape; adapters classify it as a vendor fault. */
const EXCERPT_LIMIT = 200;

export class MalformedStreamError extends Error {
  /** The start of the offending data, for logs. */
  readonly excerpt: string;

  constructor(message: string, data: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalformedStreamError';
    this.excerpt = data.trimEnd().slice(0, EXCERPT_LIMIT);
  }
}
