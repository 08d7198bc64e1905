/**
 * The chunk nearly every event of an OpenAI stream is: one choice (index 0) carrying a piece of
 * text, or a role, and nothing else that needs judging. Checked by hand, it skips zod's parse,
 * which copies every chunk: per token, that copy was a tenth of what a saturated router node
 * allocated (issue 12). The check accepts only what `OpenAIChunkSchema` accepts and leaves
 * everything else (usage, finish reasons, tool calls, several choices, anything odd) to it; a
 * property test holds the two to that.
 */
import type { OpenAIChunk } from './wire.js';

const isOptionalString = (value: unknown): boolean => value === undefined || value === null || typeof value === 'string';

export function isCommonChunk(json: unknown): json is OpenAIChunk {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  const chunk = json as Record<string, unknown>;
  if (typeof chunk.id !== 'string' || typeof chunk.created !== 'number' || typeof chunk.model !== 'string') return false;
  if ((chunk.object !== undefined && typeof chunk.object !== 'string') || !isOptionalString(chunk.system_fingerprint)) return false;
  if (chunk.usage !== undefined && chunk.usage !== null) return false;
  const choices = chunk.choices;
  if (!Array.isArray(choices) || choices.length !== 1) return false;
  const choice: unknown = choices[0];
  if (typeof choice !== 'object' || choice === null || Array.isArray(choice)) return false;
  const { index, delta, finish_reason: finishReason } = choice as Record<string, unknown>;
  if (index !== 0 || (finishReason !== undefined && finishReason !== null)) return false;
  if (typeof delta !== 'object' || delta === null || Array.isArray(delta)) return false;
  const d = delta as Record<string, unknown>;
  return (d.tool_calls === undefined || d.tool_calls === null) && isOptionalString(d.role) && isOptionalString(d.content) && isOptionalString(d.refusal);
}
