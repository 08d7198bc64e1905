/**
 * Route tables key models the way operators write them (`CLAUDE_SONNET_4`); callers and the rest of
 * the config use logical names (`claude-sonnet-4`). This is the one place the two meet.
 */
import { modelRouteKey } from '../domain/index.js';

/** Finds the logical model a route-table key means: the name itself, or the name's route key. */
export function modelForRouteKey(models: readonly string[], key: string): string | undefined {
  if (models.includes(key)) return key;
  const wanted = modelRouteKey(key);
  return models.find((m) => modelRouteKey(m) === wanted);
}

/** `claude-sonnet-4 (CLAUDE_SONNET_4)`: how error messages list the models a key could have meant. */
export function describeModels(models: readonly string[]): string {
  return models.map((m) => `${m} (${modelRouteKey(m)})`).join(', ');
}
