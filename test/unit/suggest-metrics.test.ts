import {
  type MetricCandidate,
  type PastFeature,
  rankMetrics,
  roundTarget,
  stem,
  suggestTarget,
  tokenize,
  trigramSimilarity,
} from '../../src/domain/suggest-metrics';

/**
 * A fixed corpus. The expected rankings below were worked out by hand from the rule documented on
 * `rankMetrics`, and each test says why its order holds; none was copied from the output.
 */
const CORPUS: MetricCandidate[] = [
  {
    metric: 'weekly_exporters',
    source: 'catalog',
    name: 'weekly_exporters',
    description: 'People who exported a report',
  },
  {
    metric: 'bulk_export_total',
    source: 'prometheus',
    name: 'bulk_export_total',
    description: 'Bulk exports completed, by format',
  },
  {
    metric: 'bulk_export_failures_total',
    source: 'prometheus',
    name: 'bulk_export_failures_total',
    description: 'Bulk exports that failed',
  },
  {
    metric: 'http_requests_total',
    source: 'prometheus',
    name: 'http_requests_total',
    description: 'HTTP requests served',
  },
  {
    metric: 'dark_mode_toggles_total',
    source: 'prometheus',
    name: 'dark_mode_toggles_total',
    description: 'Times the dark mode was switched on or off',
  },
  { metric: 'posthog:"export clicked"', source: 'posthog', name: 'export clicked' },
  {
    metric: 'checkout_total',
    source: 'prometheus',
    name: 'checkout_total',
    description: 'Checkouts completed',
  },
  { metric: 'honeycomb:"search performed"', source: 'honeycomb', name: 'search performed' },
  {
    metric: 'active_users',
    source: 'prometheus',
    name: 'active_users',
    description: 'Users active in the last 5 minutes',
  },
  {
    metric: 'process_cpu_seconds_total',
    source: 'prometheus',
    name: 'process_cpu_seconds_total',
    description: 'Total user and system CPU time spent in seconds.',
  },
];

function past(over: Partial<PastFeature> & Pick<PastFeature, 'id' | 'title' | 'metric'>): PastFeature {
  return { op: '>=', target: 200, window: 'week', ...over };
}

const names = (title: string, corpus = { candidates: CORPUS, past: [] as PastFeature[] }) =>
  rankMetrics(title, corpus).map((s) => s.metric);

describe('words', () => {
  it('folds plurals, -ing and -ed so "exports" matches "export"', () => {
    expect(tokenize('Exports, exporting, exported')).toEqual(['export']);
    expect(stem('queries')).toBe('query');
    expect(stem('boxes')).toBe('box');
    expect(stem('shipping')).toBe('ship');
    // Words that only look plural stay as they are.
    expect(stem('status')).toBe('status');
    expect(stem('access')).toBe('access');
  });

  it('splits snake_case, camelCase and event names, and drops words that say nothing', () => {
    expect(tokenize('bulk_export_total')).toEqual(['bulk', 'export']);
    expect(tokenize('BulkExportCount')).toEqual(['bulk', 'export']);
    expect(tokenize('A new export for the finance team')).toEqual(['export', 'financ', 'team']);
  });

  it('scores near words by trigrams', () => {
    expect(trigramSimilarity('export', 'export')).toBe(1);
    // 6 of the 7 and 9 padded trigrams are shared: 2 × 6 / 16.
    expect(trigramSimilarity('export', 'exporter')).toBeCloseTo(0.75);
    expect(trigramSimilarity('export', 'import')).toBeLessThan(0.6);
  });
});

describe('rankMetrics on a fixed corpus', () => {
  it('ranks the metric named exactly by the title first, a longer name with the same words next', () => {
    // "Bulk exports" → {bulk, export}. bulk_export_total's name is exactly those words: coverage 1,
    // name precision 2/2 → 1. bulk_export_failures_total covers both too but only 2 of its 3 name
    // words → 0.75 + 0.25 × 2/3 ≈ 0.92. posthog "export clicked" has only "export", the more common
    // of the two words (4 documents against bulk's 2), so it covers ln(1+11/5) ÷ (ln(1+11/5) +
    // ln(1+11/3)) ≈ 0.43 of the title, × (0.75 + 0.25 × 1/2) ≈ 0.38: above 0.34. weekly_exporters
    // matches "export" only in its description (× 0.7) → ≈ 0.26: below the threshold.
    const ranked = rankMetrics('Bulk exports', { candidates: CORPUS, past: [] });
    expect(ranked.map((s) => s.metric)).toEqual([
      'bulk_export_total',
      'bulk_export_failures_total',
      'posthog:"export clicked"',
    ]);
    const wExport = Math.log(1 + 11 / 5);
    const wBulk = Math.log(1 + 11 / 3);
    expect(ranked.map((s) => s.score)).toEqual([
      1,
      expect.closeTo(0.75 + 0.25 * (2 / 3), 6),
      expect.closeTo((wExport / (wExport + wBulk)) * (0.75 + 0.25 / 2), 6),
    ]);
  });

  it('still finds bulk exports when the title has words no metric knows', () => {
    // "enterprise" and "account" appear nowhere, so they weigh half the rarest weight each; bulk and
    // export keep most of the title's weight, and the same order as above holds for the top two.
    expect(names('Bulk exports for enterprise accounts').slice(0, 2)).toEqual([
      'bulk_export_total',
      'bulk_export_failures_total',
    ]);
  });

  it('suggests only what shares a word: dark mode', () => {
    // Only dark_mode_toggles_total has "dark" or "mode" (in its name and its HELP text).
    expect(names('Dark mode')).toEqual(['dark_mode_toggles_total']);
  });

  it('finds a metric through its description when the name does not say it', () => {
    // "Reports to CSV": "report" is only in weekly_exporters' description (× 0.7), and so is "export"
    // ("exported"). Nothing else has "report"; "csv" is nowhere.
    const ranked = rankMetrics('Export reports to CSV', { candidates: CORPUS, past: [] });
    expect(ranked[0]?.metric).toBe('weekly_exporters');
    expect(ranked[0]?.matched).toEqual(['export', 'report']);
  });

  it('says nothing for an unrelated title rather than padding the list', () => {
    // No word of these titles is, even nearly, a word of any name or description.
    expect(names('Quarterly tax filing')).toEqual([]);
    expect(names('Onboarding checklist for admins')).toEqual([]);
  });

  it('does not answer a title with one common word matched', () => {
    // "users" is in active_users and in process_cpu_seconds_total's HELP, but "faster", "page",
    // "load" and "mobile" are nowhere: one word out of five does not reach the threshold.
    expect(names('Faster page load for mobile users')).toEqual([]);
  });

  it('puts the catalog first when scores tie', () => {
    const candidates: MetricCandidate[] = [
      { metric: 'checkout_total', source: 'prometheus', name: 'checkout_total' },
      { metric: 'checkouts', source: 'catalog', name: 'checkouts', description: 'Checkouts completed' },
    ];
    // Both names fold to exactly {checkout}: the same score, so the catalog name goes first.
    expect(names('Checkout', { candidates, past: [] })).toEqual(['checkouts', 'checkout_total']);
  });

  it('lends the metric of a past feature with a similar title, with its outcome', () => {
    const pastFeatures = [
      past({
        id: 'F-9',
        title: 'Invoice PDF download',
        metric: 'posthog:"invoice downloaded"',
        verdict: 'met',
        value: 260,
        share: 1.3,
      }),
      past({
        id: 'F-7',
        title: 'Bulk export to S3',
        metric: 'bulk_export_total{app="web"}',
        verdict: 'met',
        value: 336,
        share: 1.68,
      }),
    ];
    // "Invoice PDF download v2": no candidate has these words; F-9's title has all three and only
    // them (similarity 1), so its metric comes with 0.9 × 1.
    const invoice = rankMetrics('Invoice PDF download v2', { candidates: CORPUS, past: pastFeatures });
    expect(invoice.map((s) => s.metric)).toEqual(['posthog:"invoice downloaded"']);
    expect(invoice[0]!.score).toBeCloseTo(0.9);
    expect(invoice[0]!.similar.map((p) => p.id)).toEqual(['F-9']);
    // "Bulk exports": F-7 shares bulk and export (2 of its 3 words: similarity √(1 × 2/3) ≈ 0.82),
    // and its metric is bulk_export_total with a selector: it joins that suggestion, which stays first.
    const bulk = rankMetrics('Bulk exports', { candidates: CORPUS, past: pastFeatures });
    expect(bulk[0]!.metric).toBe('bulk_export_total');
    expect(bulk[0]!.similar).toEqual([expect.objectContaining({ id: 'F-7', verdict: 'met', share: 1.68 })]);
  });

  it('offers at most three', () => {
    const many: MetricCandidate[] = ['a', 'b', 'c', 'd', 'e'].map((x) => ({
      metric: `export_${x}_total`,
      source: 'prometheus',
      name: `export_${x}_total`,
    }));
    expect(rankMetrics('Export', { candidates: many, past: [] })).toHaveLength(3);
  });

  it('ranks the same way every time', () => {
    const a = rankMetrics('Bulk exports', { candidates: CORPUS, past: [] });
    const b = rankMetrics('Bulk exports', { candidates: [...CORPUS].reverse(), past: [] });
    expect(b.map((s) => s.metric)).toEqual(a.map((s) => s.metric));
  });
});

describe('suggestTarget', () => {
  it('rounds to two significant digits', () => {
    expect(roundTarget(336)).toBe(340);
    expect(roundTarget(1.234)).toBe(1.2);
    expect(roundTarget(0.03333)).toBe(0.033);
    expect(roundTarget(1680)).toBe(1700);
  });

  it('lifts the current weekly level by 20% when no similar feature was judged', () => {
    // 336 × 1.2 = 403.2 → 400.
    expect(suggestTarget(336, [])).toEqual({ op: '>=', target: 400, why: "20% above this week's level" });
  });

  it('lifts less when similar features fell short of their targets', () => {
    const similar = [
      past({ id: 'F-1', title: 't', metric: 'm', verdict: 'missed', share: 0.5 }),
      past({ id: 'F-2', title: 't', metric: 'm', verdict: 'missed', share: 0.6 }),
    ];
    // median 0.55 → lift 1 + 0.2 × 0.55 = 1.11 → 336 × 1.11 = 372.96 → 370.
    expect(suggestTarget(336, similar)).toMatchObject({ op: '>=', target: 370 });
  });

  it('holds the lift within 10%–30%', () => {
    const beat = [past({ id: 'F-1', title: 't', metric: 'm', verdict: 'met', share: 4 })];
    // share 4 is held at 1.5 → lift 1.3 → 130.
    expect(suggestTarget(100, beat)).toMatchObject({ target: 130 });
  });

  it('improves downwards for an at-most metric', () => {
    const similar = [
      past({ id: 'F-1', title: 't', metric: 'm', op: '<=', target: 0.02, verdict: 'met', share: 1 }),
    ];
    // 0.04 ÷ 1.2 = 0.0333 → 0.033.
    expect(suggestTarget(0.04, similar)).toMatchObject({ op: '<=', target: 0.033 });
  });

  it('without a level, takes what similar features reached on a weekly window', () => {
    const similar = [
      past({ id: 'F-1', title: 't', metric: 'm', verdict: 'met', value: 300, share: 1.5 }),
      past({ id: 'F-2', title: 't', metric: 'm', verdict: 'missed', value: 500, share: 0.5 }),
      past({ id: 'F-3', title: 't', metric: 'm', window: 'month', verdict: 'met', value: 9000, share: 1 }),
    ];
    // Weekly values 300 and 500 (the monthly one does not compare): median 400.
    expect(suggestTarget(null, similar)).toMatchObject({ target: 400 });
    expect(suggestTarget(0, similar)).toMatchObject({ target: 400 });
  });

  it('suggests no target with nothing to go on', () => {
    expect(suggestTarget(null, [])).toBeNull();
    expect(suggestTarget(0, [])).toBeNull();
  });
});
