import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who is acting in the work under way: a Slack user id, `api` (the HTTP API's operator token), or
 * `donedone` (the bot's own jobs, the default). Carried through the async work of one request, so the
 * audit trail names who changed a feature without every use case taking an extra argument.
 */
const current = new AsyncLocalStorage<string>();

export function actingAs<T>(who: string, work: () => Promise<T>): Promise<T> {
  return current.run(who, work);
}

export function actor(): string {
  return current.getStore() ?? 'donedone';
}
