import { formatExpectation, parseExpectation, parseNumber } from '../../src/domain/parse-expectation';

describe('parseExpectation: the forms in PRODUCT.md', () => {
  it.each([
    [
      'bulk_export_total >= 200 per week within 30 days',
      { op: '>=', target: 200, window: 'week', deadlineDays: 30 },
    ],
    ['bulk_export_total >= 200', { op: '>=', target: 200, window: 'week', deadlineDays: 30 }],
    ['bulk_export_total > 1.5k per day', { op: '>', target: 1500, window: 'day' }],
    [
      'bulk_export_total <= 2m per month within 6 weeks',
      { op: '<=', target: 2_000_000, window: 'month', deadlineDays: 42 },
    ],
    ['error_ratio < 12.5%', { op: '<', target: 0.125, unit: '%' }],
    ['bulk_export_total at least 200 per week', { op: '>=', target: 200 }],
    ['bulk_export_total at most 1,000 per week within 1 week', { op: '<=', target: 1000, deadlineDays: 7 }],
    ['  bulk_export_total   >=   200   PER   WEEK  ', { op: '>=', target: 200, window: 'week' }],
  ])('%s', (text, expected) => {
    const r = parseExpectation(text);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value).toMatchObject(expected);
  });

  it('reads a label selector and writes it back escaped', () => {
    const r = parseExpectation('checkout_total{variant="new", region!~"eu-.*"} >= 100');
    expect(r.ok && r.value.metric).toEqual({
      source: 'prometheus',
      name: 'checkout_total',
      matchers: [
        { name: 'variant', op: '=', value: 'new' },
        { name: 'region', op: '!~', value: 'eu-.*' },
      ],
    });
    expect(r.ok && r.value.text).toBe(
      'checkout_total{variant="new",region!~"eu-.*"} >= 100 per week within 30 days',
    );
  });

  it('keeps quotes and backslashes in label values escaped, so user text cannot break out of the string', () => {
    const r = parseExpectation('x_total{a="say \\"hi\\"\\\\"} >= 1');
    expect(r.ok && r.value.metric).toMatchObject({ matchers: [{ value: 'say "hi"\\' }] });
    expect(r.ok && r.value.text).toBe('x_total{a="say \\"hi\\"\\\\"} >= 1 per week within 30 days');
  });

  it('reads quoted PostHog and Honeycomb event names with spaces', () => {
    expect(parseExpectation('posthog:"export clicked" >= 200 per week')).toMatchObject({
      ok: true,
      value: { metric: { source: 'posthog', event: 'export clicked' } },
    });
    expect(parseExpectation('honeycomb:"checkout completed" >= 1000 per week')).toMatchObject({
      ok: true,
      value: { metric: { source: 'honeycomb', event: 'checkout completed' } },
    });
  });

  it('takes catalog names first', () => {
    const r = parseExpectation('weekly_exporters >= 50', (n) => n === 'weekly_exporters');
    expect(r.ok && r.value.metric).toEqual({ source: 'catalog', name: 'weekly_exporters' });
  });

  it('round-trips its canonical text', () => {
    const r = parseExpectation('posthog:"a \\"b\\"" at most 12.5% per day within 2 weeks');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const again = parseExpectation(formatExpectation(r.value));
    expect(again.ok && again.value).toEqual(r.value);
  });
});

describe('parseExpectation: bad input names the mistake and shows an example', () => {
  it.each([
    ['bulk_export_total >= lots', '`lots` is not a number'],
    ['bulk_export_total >= 200 per fortnight', '`per fortnight` is not a window'],
    ['bulk_export_total => 200', '`=>` is not a comparison'],
    ['bulk_export_total', 'needs a comparison'],
    ['bulk_export_total >=', 'needs a target'],
    ['bulk_export_total >= 200 within soon', 'is not a deadline'],
    ['bulk_export_total >= 200 within 3 months', 'is not a deadline'],
    ['bulk_export_total >= 200 per week please', 'did not understand `please`'],
    ['checkout_total{variant=new} >= 1', 'must be in double quotes'],
    ['checkout_total{variant="new" >= 1', 'not closed'],
    ['checkout_total{1x="a"} >= 1', 'expected a label name'],
    ['checkout_total{a=~"("} >= 1', 'regular expression'],
    ['checkout_total{a="x} >= 1', 'no closing quote'],
    ['posthog:"" >= 1', 'Name the posthog event'],
    ['9lives >= 1', 'is not a metric name'],
    ['', 'empty'],
    ['x_total >= 1 within 400 days', 'over a year'],
  ])('%s', (text, message) => {
    const r = parseExpectation(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContain(message);
      expect(r.error).toContain('Example: `bulk_export_total >= 200 per week within 30 days`');
    }
  });
});

describe('parseNumber', () => {
  it.each([
    ['200', 200],
    ['1.5k', 1500],
    ['2m', 2e6],
    ['1,500', 1500],
    ['.5', 0.5],
  ])('%s → %d', (word, value) => {
    expect(parseNumber(word)?.value).toBe(value);
  });
  it.each(['lots', '1.2.3', '-5', '5x', '1,50', ''])('refuses %p', (word) => {
    expect(parseNumber(word)).toBeNull();
  });
});
