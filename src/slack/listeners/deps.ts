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
  /** Extra subcommands added by later capabilities (launch, digest, canary…), by name. */
  subcommands: Map<string, SubcommandHandler>;
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
}

export type SubcommandHandler = (
  command: import('../../domain/parse-command').Command,
  ctx: CommandContext,
) => Promise<void>;
