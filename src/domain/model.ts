/**
 * The words of donedone (see PRODUCT.md) as data. Pure types: nothing here talks to Redis,
 * Slack or a telemetry API, and nothing reads the clock.
 */

export type Op = '>=' | '>' | '<=' | '<';
export type WindowUnit = 'day' | 'week' | 'month';

/** One label matcher of a Prometheus selector, e.g. `variant="new"`. */
export interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** What an expectation measures. `catalog` names an entry of the metric catalog. */
export type MetricRef =
  | {
      source: 'prometheus';
      name: string;
      matchers: LabelMatcher[];
      /** From the catalog: a PromQL template with `$window` where the range goes, e.g. `sum(increase(x[$window]))`. */
      promql?: string;
    }
  | {
      source: 'posthog';
      event: string;
      /** `total` counts events (the default); `unique` counts distinct users. */
      math?: 'total' | 'unique';
    }
  | {
      source: 'honeycomb';
      event: string;
      /** From the catalog: a calculation (default COUNT) and filters, in Honeycomb's query spec terms. */
      calculation?: { op: string; column?: string };
      filters?: { column: string; op: string; value?: string | number | boolean }[];
    }
  | { source: 'catalog'; name: string };

export interface Expectation {
  metric: MetricRef;
  op: Op;
  /** The number compared with the metric. `12.5%` is stored as 0.125: a percentage compares against a ratio. */
  target: number;
  /** `%` when the target was written as a percentage. */
  unit?: '%';
  window: WindowUnit;
  deadlineDays: number;
  /** The expectation in its canonical written form. */
  text: string;
  /** Guardrails written after it (`… guard checkout_error_ratio < 2% over 3h`); see `Guard`. */
  guards?: Guard[];
}

/**
 * A guardrail: a condition that must hold while a feature rolls out, from launch to its deadline
 * (`checkout_error_ratio < 2% over 3h`). Its value follows the expectation rule over `overSeconds`
 * (a counter's increase, a gauge's average); a value that breaks the condition is a breach.
 */
export interface Guard {
  metric: MetricRef;
  op: Op;
  /** A percentage is stored as a ratio, as for expectations. */
  target: number;
  unit?: '%';
  /** The window the value is taken over, in seconds (default 1h). */
  overSeconds: number;
  /** Turn the feature's flag off at the second breach in a row, without asking. */
  autoPause?: boolean;
  /** The canonical written form, without `auto-pause`: `checkout_error_ratio < 2% over 3h`. */
  text: string;
}

/** A **Pause rollout** (pressed, or automatic), as recorded on the feature. */
export interface PauseRecord {
  at: string;
  /** The Slack user who pressed, or `auto-pause`. */
  by: string;
  guard: string;
  /** `launchdarkly`, `unleash`, `growthbook`, or `none` (no provider: the decision is recorded). */
  provider: string;
  flag?: string;
  /** What the flag tool answered (`HTTP 200`), or what to do by hand. */
  answer: string;
}

export type Verdict = 'met' | 'missed' | 'on track' | 'at risk' | 'too early' | 'no data' | 'unknown';

export type Status =
  | 'proposed'
  | 'measurable'
  | 'launched'
  | 'in use'
  | 'met'
  | 'missed'
  | 'decided'
  | 'dropped';

export type CheckKind = 'manual' | 'scheduled' | 'final';

export interface Check {
  /** ISO date-time of the moment measured (the end of the window). */
  at: string;
  kind: CheckKind;
  value: number | null;
  verdict: Verdict;
  /** The query sent to the telemetry API, shown so anyone can reproduce the number. */
  query: string;
  /** For scheduled checks before the deadline: the value projected to the deadline. */
  projected?: number | null;
  /** Which API failed, for `unknown`. */
  error?: string;
  /** The expectation (canonical text) this check measured: a new expectation starts a fresh history. */
  expectation?: string;
}

/** Whether the metric had data when the expectation was recorded. */
export type Instrumented = 'yes' | 'no' | 'unknown';

export type Decision = 'keep' | 'iterate' | 'remove';

export interface Feature {
  /** `F-<n>`, sequential per workspace. */
  id: string;
  team: string;
  title: string;
  hypothesis?: string;
  ownerId: string;
  proposedBy: string;
  status: Status;
  createdAt: string;
  /** Where the card lives: its message is the feature's thread. */
  channel?: string;
  cardTs?: string;
  /** The thread the card was posted in, when the card itself is a reply (shortcut, planning message). */
  parentTs?: string;
  expectation?: Expectation;
  instrumented?: Instrumented;
  launchedAt?: string;
  /** The workspace's zone when the feature was launched: its launch day, deadline and dates. */
  zone?: string;
  firstUseAt?: string;
  /**
   * The metric had data in the 7 days before launch: no first use (and no done-done) can be
   * told from it, and the rate is judged from the launch.
   */
  usedBeforeLaunch?: boolean;
  /** How far the first-use search has looked (ISO): the next search goes forward from here. */
  firstUseCursor?: string;
  /**
   * The telemetry could not be reached at the deadline: the verdict is pending while the bot keeps
   * trying, until `until` (ISO).
   */
  verdictPending?: { since: string; until: string; retry?: number };
  /** Set once a first-use search has run and found nothing (so `show` can say "waiting for first use"). */
  lastVerdict?: Verdict;
  droppedReason?: string;
  flag?: { key: string; since: string };
  decision?: { value: Decision; by: string; at: string };
  /** Earlier cycles, kept when a feature iterates (with that cycle's decision and retro). */
  history?: {
    expectation?: Expectation;
    launchedAt?: string;
    firstUseAt?: string;
    verdict?: Verdict;
    decision?: { value: Decision; by: string; at: string };
    retro?: Retro;
  }[];
  /** The current cycle's retrospective, once opened. */
  retro?: Retro;
  /** The canary judged for this feature; `higherIsBetter: false` when a rise is the bad news (absent: higher is better). */
  canary?: { metric: string; label: string; value: string; higherIsBetter?: boolean };
  /** Guardrails added after the expectation (`/donedone guard F-3 …`). */
  guards?: Guard[];
  /** Rollout pauses, oldest first. */
  pauses?: PauseRecord[];
}

/**
 * A retrospective thread: where its message is, and the facts it opened with (expected vs
 * actual, months used), so the message can be re-rendered when a decision is taken.
 */
export interface Retro {
  channel: string;
  ts: string;
  openedAt: string;
  /** 1 for a feature's first cycle; each Iterate starts the next. */
  cycle: number;
  launchedAt: string;
  actual: { value: number | null; verdict: Verdict; at: string };
  /** Months used in the last 12 as the retro opened; absent when the telemetry could not say. */
  monthsUsed?: { count: number; strip: string; initials: string };
  /** The decision this one replaced, when the owner changed it. */
  previousDecision?: { value: Decision; by: string; at: string };
}

export const FEATURE_ID = /^F-(\d+)$/i;

/** Normalises `f-3` or `F-3` to `F-3`; null when it is not a feature id. */
export function normaliseFeatureId(text: string): string | null {
  const m = FEATURE_ID.exec(text.trim());
  return m ? `F-${Number(m[1])}` : null;
}
