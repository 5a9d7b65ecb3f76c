import { formatCanarySpec, parseCanarySpec, parseOver } from '../../src/domain/parse-canary';

function ok(text: string) {
  const r = parseCanarySpec(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function error(text: string): string {
  const r = parseCanarySpec(text);
  if (r.ok) throw new Error(`parsed: ${JSON.stringify(r.value)}`);
  return r.error;
}

describe('parseCanarySpec', () => {
  it('reads metric, label and value, with the 1h default and higher is better', () => {
    expect(ok('checkout_revenue_dollars_total node=canary')).toEqual({
      metric: 'checkout_revenue_dollars_total',
      label: 'node',
      value: 'canary',
      over: '1h',
      overSeconds: 3600,
      higherIsBetter: true,
    });
  });

  it('reads the window and the direction in either order', () => {
    expect(ok('http:errors:rate5m pod=web-7 over 30m lower-is-better')).toMatchObject({
      metric: 'http:errors:rate5m',
      label: 'pod',
      value: 'web-7',
      overSeconds: 1800,
      over: '30m',
      higherIsBetter: false,
    });
    expect(ok('x_total node=a LOWER-IS-BETTER over 2D')).toMatchObject({
      overSeconds: 2 * 86400,
      over: '2d',
      higherIsBetter: false,
    });
    expect(ok('x_total node=a higher-is-better')).toMatchObject({ higherIsBetter: true });
  });

  it('reads a quoted value with spaces and escapes, and spaces around =', () => {
    expect(ok('x_total pod = "web 2 \\"blue\\"" over 5m')).toMatchObject({
      label: 'pod',
      value: 'web 2 "blue"',
      overSeconds: 300,
    });
  });

  it('keeps PromQL-looking values as data: they never reach the query', () => {
    expect(error('x_total node=a"}or(vector(1))')).toContain('Quote the whole value');
    expect(ok('x_total node="a\\"}) or vector(1)"').value).toBe('a"}) or vector(1)');
  });

  it.each([
    ['', '`canary` needs a metric and a label'],
    ['9lives_total node=a', '`9lives_total` is not a Prometheus metric name'],
    ['checkout_total{node="canary"}', 'Write the metric and the label apart, without braces'],
    ['checkout_total', 'Say which series is the canary'],
    ['checkout_total canary', '`canary` is not a label and value'],
    ['checkout_total no-de=canary', '`no-de` is not a label name'],
    ['checkout_total __name__=x', '`__name__` is reserved'],
    ['checkout_total node=', "Give the canary's value of `node`"],
    ['checkout_total node="canary', 'has no closing quote'],
    ['checkout_total node="a"b', 'Leave a space after the quoted value'],
    ['checkout_total node=canary over', '`over` needs a duration'],
    ['checkout_total node=canary over soon', '`soon` is not a duration'],
    ['checkout_total node=canary over 90s', '`90s` is not a duration'],
    ['checkout_total node=canary over 4m', 'too short: judge at least 5 minutes'],
    ['checkout_total node=canary over 8d', 'too long: judge at most 7 days'],
    ['checkout_total node=canary over 1h over 2h', 'Say `over` once'],
    ['checkout_total node=canary lower-is-better higher-is-better', 'once'],
    ['checkout_total node=canary please', 'I did not understand `please`'],
  ])('refuses %j with a message and a correct example', (text, message) => {
    const e = error(text);
    expect(e).toContain(message);
    expect(e).toContain('Example: `/donedone canary checkout_revenue_dollars_total node=canary over 1h`');
  });
});

describe('parseOver', () => {
  it.each([
    ['5m', 300],
    ['90m', 5400],
    ['1h', 3600],
    ['7d', 604800],
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseOver(text)).toEqual({ ok: true, value: seconds });
  });
});

describe('formatCanarySpec', () => {
  it('writes the canonical form, quoting values that need it, and reads back the same', () => {
    const spec = ok('x_total pod="web 2" over 30m lower-is-better');
    expect(formatCanarySpec(spec)).toBe('x_total pod="web 2" over 30m lower-is-better');
    expect(ok(formatCanarySpec(spec))).toEqual(spec);
    expect(formatCanarySpec(ok('x_total node=canary'))).toBe('x_total node=canary over 1h');
  });
});
