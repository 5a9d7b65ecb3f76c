/**
 * Metric suggestions: which metrics may tell whether a feature works, ranked from its title's
 * words. Deterministic and local (no hosted AI): words are split (snake_case, camelCase, dots),
 * folded (plurals, -ing, -ed) and compared exactly or by trigram similarity, weighted by how rare
 * they are in the corpus. Pure: no clock, no I/O.
 */
import type { Op, WindowUnit } from './model';

export type CandidateSource = 'catalog' | 'prometheus' | 'posthog' | 'honeycomb';

/** Something that can be measured, as a source lists it. */
export interface MetricCandidate {
  /** As written in an expectation: a catalog name, `bulk_export_total`, `posthog:"export clicked"`. */
  metric: string;
  source: CandidateSource;
  /** The words matched as the name: the metric name, or the event name. */
  name: string;
  /** The catalog's description or Prometheus' HELP text. */
  description?: string;
}

/** A past feature and how its expectation landed. */
export interface PastFeature {
  id: string;
  title: string;
  /** Its expectation's metric as written. */
  metric: string;
  op: Op;
  target: number;
  window: WindowUnit;
  verdict?: 'met' | 'missed';
  /** The value at the deadline, when judged. */
  value?: number | null;
  /** Actual ÷ target, direction-aware (calibration's `actualShare`), when judged. */
  share?: number | null;
}

export interface Suggestion {
  metric: string;
  source: CandidateSource;
  /** 0..1: how much of the title's weight the metric covers. */
  score: number;
  /** The title's words (folded) that matched the metric's name, description or a past title. */
  matched: string[];
  description?: string;
  /** Past features with similar titles that measured this metric, most similar first. */
  similar: (PastFeature & { similarity: number })[];
}

export interface RankOptions {
  /** At most this many suggestions (PRODUCT.md: up to three). */
  limit?: number;
  /** Below this score a metric is not close: nothing is better than a wrong guess. */
  threshold?: number;
  /** A past title at least this similar lends its metric. */
  pastThreshold?: number;
}

export const DEFAULT_LIMIT = 3;
export const DEFAULT_THRESHOLD = 0.34;
export const DEFAULT_PAST_THRESHOLD = 0.5;
/** A description (HELP text) word counts for less than a name word: descriptions say more than they measure. */
const DESCRIPTION_WEIGHT = 0.7;
/** A near miss by trigrams (exporter ~ export) counts for less than the same folded word. */
const FUZZY_WEIGHT = 0.8;
const FUZZY_MIN = 0.6;

/** Words that say nothing about what a feature does, in titles and in metric names alike. */
const STOPWORDS = new Set(
  (
    'a an and are as at be by for from in into is it its of on or our the their this to with without via per ' +
    'new add adds adding allow allows let lets make makes better improve improved improves improvement ' +
    'feature features support v1 v2 v3 total count sum bucket created info'
  ).split(' '),
);

/** Folds a lower-case word: plurals, -ing and -ed, so "exports", "exporting", "exported" read "export". */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (/(?:x|z|ch|sh|ss)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('ing') && w.length > 5) w = w.slice(0, -3);
  else if (w.endsWith('ed') && w.length > 4) w = w.slice(0, -2);
  // shipp(ing) → ship, logg(ed) → log
  if (/([^aeiouls])\1$/.test(w) && w.length > 3) w = w.slice(0, -1);
  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  return w;
}

/** The folded words of a title, a metric name or a description, stopwords and numbers left out. */
export function tokenize(text: string): string[] {
  const words = text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  const out: string[] = [];
  for (const word of words) {
    if (word.length < 2 || /^\d+$/.test(word) || STOPWORDS.has(word)) continue;
    const s = stem(word);
    if (!STOPWORDS.has(s) && !out.includes(s)) out.push(s);
  }
  return out;
}

function trigrams(word: string): Set<string> {
  const padded = `  ${word} `;
  const grams = new Set<string>();
  for (let i = 0; i + 3 <= padded.length; i++) grams.add(padded.slice(i, i + 3));
  return grams;
}

/** Dice coefficient of two words' trigram sets, 0..1. */
export function trigramSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const ga = trigrams(a);
  const gb = trigrams(b);
  let shared = 0;
  for (const g of ga) if (gb.has(g)) shared += 1;
  return (2 * shared) / (ga.size + gb.size);
}

interface Indexed<T> {
  item: T;
  name: string[];
  description: string[];
}

/** Candidates with their words folded once, to rank many titles against (see `indexCandidates`). */
export interface CandidateIndex {
  readonly indexed: readonly Indexed<MetricCandidate>[];
}

/** Folds the candidates' words once; the service keeps the index as long as it keeps the listing. */
export function indexCandidates(candidates: readonly MetricCandidate[]): CandidateIndex {
  return {
    indexed: candidates.map((c) => ({
      item: c,
      name: tokenize(c.name),
      description: c.description ? tokenize(c.description) : [],
    })),
  };
}

/**
 * How close each corpus word is to each title word: a vector per corpus word, computed once per
 * title (a corpus of 3,000 entries has far fewer distinct words than word pairs).
 */
class WordMatcher {
  private readonly vectors = new Map<string, number[] | null>();
  constructor(readonly words: readonly string[]) {}

  /** Similarity of title word `t` to corpus word `w`: 1 when equal, a discounted trigram score when close. */
  static sim(t: string, w: string): number {
    if (t === w) return 1;
    if (t.length < 4 || w.length < 4 || t[0] !== w[0]) return 0;
    const d = trigramSimilarity(t, w);
    return d >= FUZZY_MIN ? d * FUZZY_WEIGHT : 0;
  }

  /** The similarities of corpus word `w` to each title word, or null when it is close to none. */
  vector(w: string): number[] | null {
    let v = this.vectors.get(w);
    if (v === undefined) {
      const sims = this.words.map((t) => WordMatcher.sim(t, w));
      v = sims.some((x) => x > 0) ? sims : null;
      this.vectors.set(w, v);
    }
    return v;
  }

  /** For each title word, the best similarity among `words` (and which word gave it), or null when none is close. */
  best(words: readonly string[]): { sims: number[]; by: string[] } | null {
    let out: { sims: number[]; by: string[] } | null = null;
    for (const w of words) {
      const v = this.vector(w);
      if (!v) continue;
      if (!out) out = { sims: this.words.map(() => 0), by: this.words.map(() => '') };
      for (let j = 0; j < v.length; j++) {
        if (v[j]! > out.sims[j]!) {
          out.sims[j] = v[j]!;
          out.by[j] = w;
        }
      }
    }
    return out;
  }
}

function baseMetric(metric: string): string {
  const brace = metric.indexOf('{');
  return brace === -1 ? metric : metric.slice(0, brace);
}

/**
 * Ranks metrics for a feature title. For each of the title's words the best match in a metric's
 * name (1 for the same folded word, less for a trigram near-miss) or description (× 0.7) counts,
 * weighted by the word's rarity in the corpus (inverse document frequency: "export" in 3 of 2,000
 * names weighs more than "request" in 400). The score is the share of the title's weight covered,
 * times 0.75 + 0.25 × the share of the metric's own name words matched (so `bulk_export_total`
 * ranks above `bulk_export_failures_total` for "Bulk export"). A past feature whose title covers at
 * least `pastThreshold` lends its metric that score × 0.9 (plus a 0.1 × similarity bonus when the
 * metric matched on its own). Below `threshold` nothing is suggested. Ties: catalog first, then name.
 */
export function rankMetrics(
  title: string,
  corpus: { candidates: readonly MetricCandidate[] | CandidateIndex; past: readonly PastFeature[] },
  opts: RankOptions = {},
): Suggestion[] {
  const limit = opts.limit ?? DEFAULT_LIMIT;
  const threshold = opts.threshold ?? DEFAULT_THRESHOLD;
  const pastThreshold = opts.pastThreshold ?? DEFAULT_PAST_THRESHOLD;
  const words = tokenize(title);
  if (words.length === 0) return [];

  const candidates = ('indexed' in corpus.candidates ? corpus.candidates : indexCandidates(corpus.candidates))
    .indexed;
  const past: Indexed<PastFeature>[] = corpus.past.map((p) => ({
    item: p,
    name: tokenize(p.title),
    description: [],
  }));

  // First pass: what each entry matches, and how many entries have each title word exactly.
  const matcher = new WordMatcher(words);
  const df = words.map(() => 0);
  const near = words.map(() => false);
  const count = (m: { sims: number[] } | null, m2?: { sims: number[] } | null) => {
    for (let j = 0; j < words.length; j++) {
      const a = m?.sims[j] ?? 0;
      const b = m2?.sims[j] ?? 0;
      if (a === 1 || b === 1) df[j]! += 1;
      else if (a > 0 || b > 0) near[j] = true;
    }
  };
  const candidateMatches = candidates.flatMap((c, i) => {
    const name = matcher.best(c.name);
    const description = matcher.best(c.description);
    if (!name && !description) return [];
    count(name, description);
    return [{ c, i, name, description }];
  });
  const pastMatches = past.flatMap((p) => {
    const name = matcher.best(p.name);
    if (!name) return [];
    count(name);
    return [{ p, name }];
  });

  // Rarity of each title word among the candidates' and past titles' words. A word found nowhere
  // (not even nearly) cannot be matched by any metric: it weighs half the rarest word's weight, so
  // "Bulk export for enterprise accounts" still finds bulk exports, while "Faster page load for
  // mobile users" is not answered with `active_users` for its one common word.
  const docs = candidates.length + past.length;
  const rarest = Math.log(1 + (docs + 1));
  const weight = words.map((_, j) =>
    df[j] === 0 && !near[j] ? rarest / 2 : Math.log(1 + (docs + 1) / (df[j]! + 1)),
  );
  const totalWeight = weight.reduce((a, w) => a + w, 0);

  const byMetric = new Map<string, Suggestion>();
  const order = new Map<string, number>();
  for (const { c, i, name, description } of candidateMatches) {
    let covered = 0;
    const matched: string[] = [];
    const nameHit = new Set<string>();
    words.forEach((t, j) => {
      const bestName = name?.sims[j] ?? 0;
      const m = Math.max(bestName, DESCRIPTION_WEIGHT * (description?.sims[j] ?? 0));
      if (m > 0) {
        covered += weight[j]! * m;
        matched.push(t);
      }
      if (bestName > 0) nameHit.add(name!.by[j]!);
    });
    const precision = c.name.length === 0 ? 0 : nameHit.size / c.name.length;
    const score = (covered / totalWeight) * (0.75 + 0.25 * precision);
    const key = baseMetric(c.item.metric);
    const previous = byMetric.get(key);
    if (previous && previous.score >= score) continue;
    byMetric.set(key, {
      metric: c.item.metric,
      source: c.item.source,
      score,
      matched,
      ...(c.item.description ? { description: c.item.description } : {}),
      similar: [],
    });
    if (!order.has(key)) order.set(key, i);
  }

  for (const { p, name } of pastMatches) {
    let covered = 0;
    const matched: string[] = [];
    words.forEach((t, j) => {
      const m = name.sims[j]!;
      if (m > 0) {
        covered += weight[j]! * m;
        matched.push(t);
      }
    });
    // Both ways: "Export" is not "Bulk export to S3 for the finance team" just because one word is shared.
    const back = p.name.filter((n) => matcher.vector(n) !== null).length;
    const similarity = p.name.length === 0 ? 0 : ((covered / totalWeight) * (back / p.name.length)) ** 0.5;
    if (similarity < pastThreshold) continue;
    const key = baseMetric(p.item.metric);
    const existing = byMetric.get(key);
    const similar = { ...p.item, similarity };
    if (existing) {
      if (!existing.similar.some((s) => s.id === p.item.id)) existing.similar.push(similar);
      existing.score = Math.min(1, Math.max(existing.score, 0.9 * similarity) + 0.1 * similarity);
      for (const m of matched) if (!existing.matched.includes(m)) existing.matched.push(m);
    } else {
      byMetric.set(key, {
        metric: p.item.metric,
        source: sourceOf(p.item.metric),
        score: 0.9 * similarity,
        matched,
        similar: [similar],
      });
      order.set(key, Number.MAX_SAFE_INTEGER);
    }
  }

  const rank: Record<CandidateSource, number> = { catalog: 0, prometheus: 1, posthog: 2, honeycomb: 3 };
  return [...byMetric.values()]
    .filter((s) => s.score >= threshold)
    .map((s) => ({
      ...s,
      similar: s.similar.sort((a, b) => b.similarity - a.similarity || a.id.localeCompare(b.id)),
    }))
    .sort(
      (a, b) =>
        b.score - a.score ||
        rank[a.source] - rank[b.source] ||
        a.metric.localeCompare(b.metric) ||
        order.get(baseMetric(a.metric))! - order.get(baseMetric(b.metric))!,
    )
    .slice(0, limit);
}

/** The source of a metric as written in an expectation (a bare name: Prometheus or the catalog). */
export function sourceOf(metric: string): CandidateSource {
  if (metric.startsWith('posthog:')) return 'posthog';
  if (metric.startsWith('honeycomb:')) return 'honeycomb';
  return 'prometheus';
}

/** A target rounded to two significant digits, as a person would write it (336 → 340, 1.234 → 1.2). */
export function roundTarget(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const magnitude = 10 ** (Math.floor(Math.log10(Math.abs(value))) - 1);
  return Number((Math.round(value / magnitude) * magnitude).toPrecision(12));
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface SuggestedTarget {
  op: Op;
  target: number;
  /** How it was reached, in words. */
  why: string;
}

/**
 * A suggested weekly target:
 * - with a current weekly level L above zero: a lift of 20% × m over it, where m is the median
 *   actual ÷ target of the similar past features that were judged (1 when there are none), held
 *   within 0.5–1.5 — so 10% to 30%: smaller when similar features fell short of their targets,
 *   bigger when they beat them. For an "at most" metric the same improvement, downwards;
 * - with no level (no data yet, or the telemetry could not say): the median value similar judged
 *   features reached at their deadline on a weekly window, when there is one;
 * - otherwise none: say so rather than invent a number.
 * The op is the one similar past features used on this metric (`>=` when none).
 */
export function suggestTarget(level: number | null, similar: readonly PastFeature[]): SuggestedTarget | null {
  const op = similar[0]?.op ?? '>=';
  const up = op === '>=' || op === '>';
  const shares = similar.map((s) => s.share).filter((s): s is number => typeof s === 'number');
  const m = Math.min(1.5, Math.max(0.5, median(shares) ?? 1));
  if (level !== null && level > 0) {
    const lift = 1 + 0.2 * m;
    const target = roundTarget(up ? level * lift : level / lift);
    const percent = Math.round((lift - 1) * 100);
    const how =
      shares.length === 0
        ? `${percent}% ${up ? 'above' : 'below'} this week's level`
        : `${percent}% ${up ? 'above' : 'below'} this week's level, as similar features landed at a median ${Math.round((median(shares) ?? 1) * 100)}% of target`;
    return { op, target, why: how };
  }
  const reached = similar
    .filter((s) => s.window === 'week' && typeof s.value === 'number' && s.value > 0)
    .map((s) => s.value as number);
  const typical = median(reached);
  if (typical !== null) {
    return {
      op,
      target: roundTarget(typical),
      why: `what similar features reached at their deadline (median of ${reached.length})`,
    };
  }
  return null;
}
