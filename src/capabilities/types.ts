import type { App, CustomRoute } from '@slack/bolt';
import type { Command } from '../domain/parse-command';
import type { JobProcessor } from '../jobs/worker';
import type { CommandRunner } from '../slack/listeners/commands/donedone-command';
import type { ListenerDeps, SubcommandHandler } from '../slack/listeners/deps';

/** What listeners are given when they are registered: the composed deps, and how a button runs a command. */
export interface Shared extends ListenerDeps {
  run: CommandRunner;
}

/** Every `/donedone` subcommand that does work after the acknowledgement (`help` is answered in it). */
export type SubcommandName = Exclude<Command['name'], 'help'>;

/** The handlers of every subcommand: composing the capabilities must cover each name, or it does not compile. */
export type SubcommandHandlers = Readonly<Record<SubcommandName, SubcommandHandler>>;

/**
 * What a capability (proposals, launch and watch, digests, retros, canary, flags, guardrails,
 * learning…) adds to donedone: its subcommands, its Slack listeners, its job processors (by job
 * name) and its HTTP routes. `app.ts` composes them; a capability's folder builds its services.
 */
export interface Capability<S extends SubcommandName = never> {
  subcommands: { readonly [K in S]: SubcommandHandler };
  /** Registers the capability's listeners (buttons, forms, events) on the Bolt app. */
  listen?(bolt: App, shared: Shared): void;
  processors?: Readonly<Record<string, JobProcessor>>;
  routes?: readonly CustomRoute[];
}
