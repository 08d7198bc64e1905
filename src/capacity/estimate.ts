/**
 * What a request will cost before it is sent: its input tokens estimated from its text (about
 * four characters a token, the vendors' own rule of thumb; an image at what Anthropic charges a
 * typical one) plus its max_tokens, which is what the vendors count against a tokens-per-minute
 * quota at admission. The reservation is corrected by the real usage when the answer says it.
 */
import type { CanonicalRequest, ContentBlock } from '../domain/index.js';

const CHARS_PER_TOKEN = 4;
const IMAGE_TOKENS = 1_600;

function blockChars(block: ContentBlock): number {
  switch (block.type) {
    case 'text':
      return block.text.length;
    case 'image':
      return IMAGE_TOKENS * CHARS_PER_TOKEN;
    case 'tool_call':
      return block.name.length + JSON.stringify(block.arguments).length;
    case 'tool_result':
      return block.content.reduce((sum, b) => sum + blockChars(b), 0);
  }
}

export function estimatedTokens(request: CanonicalRequest): number {
  let chars = request.system?.length ?? 0;
  for (const message of request.messages) for (const block of message.content) chars += blockChars(block);
  for (const tool of request.tools ?? []) chars += tool.name.length + (tool.description?.length ?? 0) + JSON.stringify(tool.inputSchema).length;
  return Math.ceil(chars / CHARS_PER_TOKEN) + request.maxTokens;
}
