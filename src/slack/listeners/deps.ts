import type { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { Config } from '../../config';
import type { Telemetry } from '../../telemetry/telemetry';
import type { FeatureService } from '../../usecases/feature-service';

/** What listeners need; built once in app.ts. */
export interface ListenerDeps {
  config: Config;
  service: FeatureService;
  telemetry: Telemetry;
  log: Logger;
  now: () => DateTime;
  watch: import('../../usecases/watch-service').WatchService;
  metrics: import('../../http/metrics').BotMetrics;
  /** Calibration and metric suggestions (learning-service); absent, answers go without them. */
  learning?: import('../../usecases/learning-service').LearningService;
  /** Every subcommand's handler, from the capabilities (src/capabilities). */
  handlers: import('../../capabilities/types').SubcommandHandlers;
  /** Replays, visibility, change rights and limits of commands (src/usecases/command-guard.ts). */
  guard?: import('../../usecases/command-guard').CommandGuard;
  access?: import('../../usecases/access').AccessService;
}

export interface CommandContext {
  team: string;
  channel: string;
  userId: string;
  triggerId: string;
  respond: (message: { text: string; blocks?: unknown[] }) => Promise<void>;
  /** Bolt's client for the request's workspace (opening forms). */
  client?: import('@slack/bolt').webApi.WebClient;
  /** The expectation the acknowledgement parsed from the command's text (`propose … expect …`, `expect`). */
  expectation?: import('../../domain/model').Expectation;
}

export type SubcommandHandler = (
  command: import('../../domain/parse-command').Command,
  ctx: CommandContext,
) => Promise<void>;
