import type { Feature } from './model';

/** One recorded change of a feature: who, when, what, before → after (PRODUCT.md "Who may see and change"). */
export interface AuditEntry {
  /** ISO date-time. */
  at: string;
  /** A Slack user id, `api` (the HTTP API's operator token) or `donedone` (the bot's own jobs). */
  by: string;
  /** What changed: `proposed`, `status`, `expectation`, `owner`, `launch`, `flag`, `canary`, `decision`, … */
  what: string;
  before: string | null;
  after: string | null;
}

/** The fields a person cares to trace, each shown as a short string. Internal bookkeeping is left out. */
const TRACED: { what: string; of: (f: Feature) => string | null }[] = [
  { what: 'title', of: (f) => f.title },
  { what: 'hypothesis', of: (f) => f.hypothesis ?? null },
  { what: 'owner', of: (f) => f.ownerId },
  { what: 'status', of: (f) => f.status },
  { what: 'expectation', of: (f) => f.expectation?.text ?? null },
  { what: 'launch', of: (f) => f.launchedAt ?? null },
  { what: 'first use', of: (f) => f.firstUseAt ?? null },
  { what: 'flag', of: (f) => (f.flag ? `${f.flag.key} since ${f.flag.since}` : null) },
  {
    what: 'canary',
    of: (f) => (f.canary ? `${f.canary.metric} ${f.canary.label}=${f.canary.value}` : null),
  },
  { what: 'decision', of: (f) => f.decision?.value ?? null },
  { what: 'drop reason', of: (f) => f.droppedReason ?? null },
];

/**
 * The entries a write of `after` over `before` makes (`before` null: the feature was just created).
 * Pure: the caller says who and when.
 */
export function auditEntries(before: Feature | null, after: Feature, by: string, at: string): AuditEntry[] {
  if (!before) return [{ at, by, what: 'proposed', before: null, after: after.title }];
  const out: AuditEntry[] = [];
  for (const t of TRACED) {
    const b = t.of(before);
    const a = t.of(after);
    if (b !== a) out.push({ at, by, what: t.what, before: b, after: a });
  }
  return out;
}
