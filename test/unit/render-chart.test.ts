import { basename } from 'node:path';
import { renderAsync } from '@resvg/resvg-js';
import { DateTime } from 'luxon';
import {
  type ChartSpec,
  chartAltText,
  chartFonts,
  escapeXml,
  renderChartPng,
  renderChartSvg,
} from '../../src/charts/render-chart';
import { formatNumber, niceTicks, timeTicks } from '../../src/charts/scale';

const launch = DateTime.fromISO('2026-10-01T00:00:00Z', { zone: 'utc' });
const weekly = [12, 40, 75, 96, 120, 133, 150, 158, 171, 180];

function retroSpec(overrides: Partial<ChartSpec> = {}): ChartSpec {
  return {
    title: 'bulk_export_total per week',
    unit: 'exports / week',
    series: [
      {
        name: 'bulk_export_total',
        points: weekly.map((value, i) => ({ at: launch.plus({ days: 3 * i + 3 }), value })),
      },
    ],
    target: { value: 200, label: 'target ≥ 200 / week' },
    markers: [
      { at: launch, label: 'launch' },
      { at: launch.plus({ days: 30 }), label: 'deadline' },
    ],
    ...overrides,
  };
}

const canaryStart = DateTime.fromISO('2026-10-05T14:00:00Z', { zone: 'utc' });
function canarySpec(): ChartSpec {
  const node = (name: string, base: number, step: number) => ({
    name,
    points: Array.from({ length: 61 }, (_, i) => ({
      at: canaryStart.plus({ minutes: i }),
      value: base + ((i * step) % 50),
    })),
  });
  return {
    title: 'revenue_dollars: node=canary vs baseline',
    unit: '$/min',
    series: [node('canary', 1150, 7), node('node-a', 1400, 11), node('node-b', 1380, 13)],
    markers: [{ at: canaryStart.plus({ minutes: 20 }), label: 'deploy' }],
  };
}

function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** The y of the horizontal grid line whose tick label reads `label`. */
function gridY(svg: string, label: string): number {
  const lines = svg.split('\n');
  const i = lines.findIndex((l) => l.startsWith('<text') && l.endsWith(`>${label}</text>`));
  expect(i).toBeGreaterThan(0);
  const match = /y1="([\d.]+)"/.exec(lines[i - 1] ?? '');
  return Number(match?.[1]);
}

describe('renderChartPng', () => {
  it('renders a 1000×500 PNG with real content', async () => {
    const png = await renderChartPng(retroSpec());
    expect(pngSize(png)).toEqual({ width: 1000, height: 500 });
    expect(png.length).toBeGreaterThan(10_000);
  });

  it('draws the series in its colour and leaves the background white', async () => {
    const image = await renderAsync(renderChartSvg(retroSpec()), {
      font: { loadSystemFonts: false, fontFiles: chartFonts(), defaultFontFamily: 'DejaVu Sans' },
    });
    const { pixels, width } = image;
    const at = (x: number, y: number) => [...pixels.subarray((y * width + x) * 4, (y * width + x) * 4 + 3)];
    expect(at(2, 2)).toEqual([255, 255, 255]);
    const colours = new Set<string>();
    let blue = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
      colours.add(`${r},${g},${b}`);
      if (r === 0x00 && g === 0x72 && b === 0xb2) blue += 1;
    }
    expect(colours.size).toBeGreaterThan(50);
    // A 4px line across most of the plot is thousands of pixels of the first palette colour.
    expect(blue).toBeGreaterThan(2000);
  });

  it('never renders smaller than 800×400', async () => {
    expect(pngSize(await renderChartPng(retroSpec({ width: 300, height: 100 })))).toEqual({
      width: 800,
      height: 400,
    });
    expect(pngSize(await renderChartPng(retroSpec({ width: 1600, height: 800 })))).toEqual({
      width: 1600,
      height: 800,
    });
  });

  it('renders the empty case as a PNG too', async () => {
    const png = await renderChartPng({ title: 'nothing yet', series: [{ name: 'a', points: [] }] });
    expect(pngSize(png)).toEqual({ width: 1000, height: 500 });
  });

  it('draws text with the font files it loads by path, not with system fonts', async () => {
    expect(chartFonts().map((f) => basename(f))).toEqual(['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf']);
    // Only the title differs: its glyphs must come out as dark pixels at the top of the chart.
    const ink = async (title: string) => {
      const svg = renderChartSvg({ ...retroSpec(), title });
      const image = await renderAsync(svg, {
        font: { loadSystemFonts: false, fontFiles: chartFonts(), defaultFontFamily: 'DejaVu Sans' },
        background: '#ffffff',
      });
      // `pixels` copies the whole bitmap on every read: read it once.
      const { pixels, width } = image;
      let dark = 0;
      for (let y = 0; y < 50; y++) {
        for (let x = 0; x < width; x++) {
          const i = (y * width + x) * 4;
          if ((pixels[i] ?? 255) < 128) dark += 1;
        }
      }
      return dark;
    };
    const withTitle = await ink('Exports per week');
    const blank = await ink(' ');
    expect(withTitle).toBeGreaterThan(blank + 200);
    // And the PNG the bot uploads has the same title pixels (rendered the same way).
    expect(await renderChartPng({ ...retroSpec(), title: 'Exports per week' })).toEqual(
      (
        await renderAsync(renderChartSvg({ ...retroSpec(), title: 'Exports per week' }), {
          font: { loadSystemFonts: false, fontFiles: chartFonts(), defaultFontFamily: 'DejaVu Sans' },
          background: '#ffffff',
        })
      ).asPng(),
    );
  });

  it('renders off the event loop: timers run while a chart is being drawn', async () => {
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
    }, 1);
    try {
      const pngs = await Promise.all(
        [1, 2, 3, 4].map(() => renderChartPng(retroSpec({ width: 1600, height: 800 }))),
      );
      expect(pngs).toHaveLength(4);
    } finally {
      clearInterval(timer);
    }
    // A synchronous render of four 1600×800 charts would have let no timer fire at all.
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('renderChartSvg', () => {
  it('matches the retrospective snapshot', () => {
    expect(renderChartSvg(retroSpec())).toMatchSnapshot();
  });

  it('matches the canary snapshot', () => {
    expect(renderChartSvg(canarySpec())).toMatchSnapshot();
  });

  it('is deterministic and does not reorder the caller’s points', () => {
    const spec = retroSpec();
    const first = spec.series[0]?.points[0];
    spec.series[0]?.points.reverse();
    const svg = renderChartSvg(spec);
    expect(renderChartSvg(spec)).toBe(svg);
    expect(spec.series[0]?.points[spec.series[0].points.length - 1]).toBe(first);
    expect(svg).toBe(renderChartSvg(retroSpec()));
  });

  it('uses the DejaVu font stack and large text', () => {
    const svg = renderChartSvg(retroSpec());
    expect(svg).toContain('font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif"');
    const sizes = [...svg.matchAll(/font-size="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(14);
    const strokes = [...svg.matchAll(/class="series"[^>]*stroke-width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(strokes).toEqual([4]);
  });

  it('escapes user text', async () => {
    const svg = renderChartSvg(
      retroSpec({
        title: '<script>alert("x")</script> & co',
        unit: "<b>'units'</b>",
        series: [
          { name: '</text><script>1</script>', points: [{ at: launch, value: 1 }] },
          { name: 'b\u0000&', points: [{ at: launch, value: 2 }] },
        ],
        target: { value: 3, label: '<img src=x onerror=alert(1)>' },
        markers: [{ at: launch, label: '"launch" & <go>' }],
      }),
    );
    expect(svg).not.toMatch(/<script|<img|<b>|<\/text><script/);
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(svg).toContain('&lt;b&gt;&apos;units&apos;&lt;/b&gt;');
    expect(svg).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(svg).toContain('&quot;launch&quot; &amp; &lt;go&gt;');
    expect(svg).not.toContain('\u0000');
    // Still a document resvg can parse and draw.
    await expect(
      renderAsync(svg, { font: { loadSystemFonts: false, fontFiles: chartFonts() } }),
    ).resolves.toBeDefined();
  });

  it('shows "No data" instead of axes when every series is empty', () => {
    for (const series of [
      [],
      [{ name: 'a', points: [] }],
      [{ name: 'a', points: [{ at: launch, value: NaN }] }],
    ]) {
      const svg = renderChartSvg(retroSpec({ series }));
      expect(svg).toContain('>No data</text>');
      expect(svg).not.toContain('class="series"');
      expect(svg).not.toContain('class="target"');
      expect(svg).not.toContain('NaN');
    }
  });

  it('keeps drawing the other series when one is empty, and says so in the legend', () => {
    const spec = canarySpec();
    spec.series.push({ name: 'node-c', points: [] });
    const svg = renderChartSvg(spec);
    expect(svg.match(/class="series"/g)).toHaveLength(3);
    expect(svg).toContain('>node-c (no data)</text>');
    expect(svg).not.toContain('>No data</text>');
  });

  it('draws a legend only for more than one series', () => {
    expect(renderChartSvg(canarySpec())).toContain('>node-a</text>');
    expect(renderChartSvg(retroSpec())).not.toContain('>bulk_export_total</text>');
  });

  it('gives each series its own colour', () => {
    const svg = renderChartSvg(canarySpec());
    const colours = [...svg.matchAll(/class="series"[^>]*stroke="(#[0-9A-F]{6})"/g)].map((m) => m[1]);
    expect(colours).toEqual(['#0072B2', '#E69F00', '#009E73']);
  });

  it('draws the target as a dashed line at its value, inside the y range', () => {
    const svg = renderChartSvg(retroSpec());
    const target = /<line class="target"[^>]*y1="([\d.]+)"[^>]*stroke-dasharray/.exec(svg);
    expect(target).not.toBeNull();
    expect(Number(target?.[1])).toBe(gridY(svg, '200'));
    expect(svg).toContain('>target ≥ 200 / week</text>');

    // A target far above the data still fits: the axis grows to show it.
    const high = renderChartSvg(retroSpec({ target: { value: 4000, label: 'target 4k' } }));
    expect(Number(/class="target"[^>]*y1="([\d.]+)"/.exec(high)?.[1])).toBe(gridY(high, '4k'));
  });

  it('draws launch and deadline markers as vertical lines in time order', () => {
    const svg = renderChartSvg(retroSpec());
    const xs = [...svg.matchAll(/<line class="marker" x1="([\d.]+)"[^>]*x2="([\d.]+)"/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(xs).toHaveLength(2);
    for (const [x1, x2] of xs) expect(x1).toBe(x2);
    expect(xs[0]?.[0]).toBeLessThan(xs[1]?.[0] ?? 0);
    expect(svg).toContain('>launch · 1 Oct</text>');
    expect(svg).toContain('>deadline · 31 Oct</text>');
  });

  it('starts the y axis at 0 for positive data and goes below it for negative data', () => {
    const positive = renderChartSvg(retroSpec({ target: undefined }));
    expect(gridY(positive, '0')).toBeGreaterThan(gridY(positive, '50'));
    expect(positive).not.toContain('>−');

    const negative = renderChartSvg(
      retroSpec({
        unit: '%',
        target: undefined,
        series: [
          {
            name: 'change',
            points: [-12, -3, 4].map((value, i) => ({ at: launch.plus({ days: i }), value })),
          },
        ],
      }),
    );
    expect(negative).toContain('>−15%</text>');
    expect(negative).toContain('>0%</text>');
    expect(negative).toContain('>5%</text>');
  });

  it('labels the x axis in days for long spans and in hours for short ones', () => {
    const days = renderChartSvg(retroSpec());
    expect(days).toContain('>5 Oct</text>');
    expect(days).toContain('>12 Oct</text>');
    expect(days).toContain('>Date (UTC), 2026</text>');

    const minutes = renderChartSvg(canarySpec());
    expect(minutes).toContain('>14:00</text>');
    expect(minutes).toContain('>14:30</text>');
    expect(minutes).toContain('>Time (UTC), 5 Oct 2026</text>');
    expect(minutes).toContain('>1.5k</text>');
    expect(minutes).toContain('>$/min</text>');
  });

  it('refuses more than six series', () => {
    const one = canarySpec().series[0]!;
    expect(() => renderChartSvg({ title: 't', series: Array.from({ length: 7 }, () => one) })).toThrow(
      /at most 6 series/,
    );
  });
});

describe('chartAltText', () => {
  it('describes a retrospective chart', () => {
    expect(chartAltText(retroSpec())).toBe(
      'Line chart of bulk_export_total per week from 4 Oct to 31 Oct 2026: last value 180 exports / week, ' +
        'target 200 exports / week. Launch marked on 1 Oct. Deadline marked on 31 Oct.',
    );
  });

  it('describes a canary chart with every series', () => {
    expect(chartAltText(canarySpec())).toBe(
      'Line chart of revenue_dollars: node=canary vs baseline from 14:00 to 15:00 UTC on 5 Oct 2026: ' +
        'last values canary 1.17k $/min, node-a 1.41k $/min, node-b 1.41k $/min. Deploy marked at 14:20 UTC.',
    );
  });

  it('formats percentages and says when there is no data', () => {
    const spec = retroSpec({
      title: 'checkout conversion',
      unit: '%',
      target: { value: 35, label: 'target 35%' },
      markers: [],
      series: [{ name: 'c', points: [{ at: launch, value: 31.25 }] }],
    });
    expect(chartAltText(spec)).toBe(
      'Line chart of checkout conversion on 1 Oct 2026: last value 31.3%, target 35%.',
    );
    expect(chartAltText(retroSpec({ series: [{ name: 'a', points: [] }] }))).toBe(
      'Line chart of bulk_export_total per week: no data.',
    );
  });
});

describe('escapeXml', () => {
  it('replaces the five XML entities', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});

describe('scale', () => {
  it('picks round ticks covering the range', () => {
    expect(niceTicks(0, 180, 5)).toEqual([0, 50, 100, 150, 200]);
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-12, 4, 5)).toEqual([-15, -10, -5, 0, 5]);
    expect(niceTicks(0, 0, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it('formats numbers short', () => {
    expect(formatNumber(180)).toBe('180');
    expect(formatNumber(1234)).toBe('1.23k');
    expect(formatNumber(1200)).toBe('1.2k');
    expect(formatNumber(3_400_000)).toBe('3.4M');
    expect(formatNumber(999_960)).toBe('1M');
    expect(formatNumber(35, { unit: '%' })).toBe('35%');
    expect(formatNumber(-2500)).toBe('−2.5k');
    expect(formatNumber(0.0123)).toBe('0.0123');
    expect([0, 250, 500, 750, 1000, 1250].map((v) => formatNumber(v, { step: 250 }))).toEqual([
      '0',
      '250',
      '500',
      '750',
      '1k',
      '1.25k',
    ]);
  });

  it('ticks time in hours under two days and in days above', () => {
    const start = Date.UTC(2026, 9, 5, 14, 7);
    const hours = timeTicks(start, start + 6 * 3_600_000, 6);
    expect(hours.subDay).toBe(true);
    expect(hours.ticks.map(hours.label)).toEqual(['15:00', '16:00', '17:00', '18:00', '19:00', '20:00']);

    const days = timeTicks(Date.UTC(2026, 9, 1), Date.UTC(2026, 9, 31), 6);
    expect(days.subDay).toBe(false);
    expect(days.ticks.map(days.label)).toEqual(['5 Oct', '12 Oct', '19 Oct', '26 Oct']);

    const months = timeTicks(Date.UTC(2026, 10, 15), Date.UTC(2027, 3, 1), 6);
    expect(months.ticks.map(months.label)).toEqual(['Dec 2026', 'Jan 2027', 'Feb', 'Mar', 'Apr']);
  });
});
