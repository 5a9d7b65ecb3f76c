/**
 * Line charts for Slack threads (retrospectives, canary judgements), drawn server-side:
 * the SVG is built here as a string and rasterised to PNG by resvg, with no browser.
 * Everything but `renderChartPng` (asynchronous, off the event loop) is pure and deterministic.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderAsync } from '@resvg/resvg-js';
import type { DateTime } from 'luxon';
import { formatNumber, formatWithUnit, niceTicks, SUB_DAY_SPAN_MS, timeTicks, utc } from './scale';

export interface ChartPoint {
  at: DateTime;
  value: number;
}

export interface ChartSeries {
  name: string;
  /** In any order; points with a non-finite value are left out. */
  points: ChartPoint[];
}

export interface ChartSpec {
  title: string;
  /** Y-axis unit, e.g. `exports / week`, `$/min`; `%` means the values are already percentages. */
  unit?: string;
  /** 1 to 6 series; a legend is drawn when there is more than one. */
  series: ChartSeries[];
  /** A horizontal dashed line, always inside the y range. */
  target?: { value: number; label: string };
  /** Vertical lines such as launch and deadline; the x range is widened to show them. */
  markers?: { at: DateTime; label: string }[];
  /** Pixels; default 1000, at least 800. */
  width?: number;
  /** Pixels; default 500, at least 400. */
  height?: number;
}

export const MAX_SERIES = 6;

/** Okabe–Ito colours, told apart with the common colour-vision deficiencies. */
export const CHART_PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9'] as const;

export const CHART_FONT_FAMILY = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

const INK = '#1f2328';
const MUTED = '#57606a';
const GRID = '#d8dee4';
const TARGET = '#cf222e';
const MARKER = '#6e7781';
// DejaVu Sans is wide; this over-estimates slightly so laid-out text never overlaps.
const CHAR_WIDTH_EM = 0.62;

/** An SVG document of the chart. Throws a `RangeError` for more than six series. */
export function renderChartSvg(spec: ChartSpec): string {
  if (spec.series.length > MAX_SERIES) {
    throw new RangeError(
      `A chart shows at most ${MAX_SERIES} series, got ${spec.series.length}: aggregate the rest first.`,
    );
  }
  const width = clampSize(spec.width, 1000, 800, 4000);
  const height = clampSize(spec.height, 500, 400, 4000);
  // Fonts and strokes grow with the image, so the chart reads the same once Slack shrinks it.
  const s = Math.min(width / 1000, height / 500);
  const font = { title: 28 * s, label: 18 * s, small: 16 * s };
  const pad = 20 * s;
  const series = spec.series.map((one, i) => ({
    name: one.name,
    color: CHART_PALETTE[i % CHART_PALETTE.length] ?? INK,
    points: cleanPoints(one.points),
  }));
  const markers = (spec.markers ?? [])
    .map((m) => ({ ms: m.at.toMillis(), label: m.label }))
    .filter((m) => Number.isFinite(m.ms))
    .sort((a, b) => a.ms - b.ms);
  const target = spec.target && Number.isFinite(spec.target.value) ? spec.target : undefined;
  const hasData = series.some((one) => one.points.length > 0);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${CHART_FONT_FAMILY}" fill="${INK}">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  let cursor = pad + font.title * 0.95;
  out.push(
    text(truncate(spec.title, (width - 2 * pad) / (font.title * CHAR_WIDTH_EM)), pad, cursor, {
      size: font.title,
      weight: 'bold',
    }),
  );
  cursor += 14 * s;

  if (series.length > 1) {
    const legend = layoutLegend(series, width - 2 * pad, font.label, s);
    for (const item of legend.items) {
      const y = cursor + item.row * 30 * s + 15 * s;
      const x = pad + item.x;
      out.push(
        `<line x1="${r(x)}" y1="${r(y)}" x2="${r(x + 28 * s)}" y2="${r(y)}" stroke="${item.color}" stroke-width="${r(6 * s)}" stroke-linecap="round"/>`,
      );
      out.push(text(item.label, x + 36 * s, y + font.label * 0.35, { size: font.label }));
    }
    cursor += legend.rows * 30 * s + 6 * s;
  }

  if (!hasData) {
    const plotTop = cursor + 10 * s;
    const plotBottom = height - pad;
    out.push(
      `<rect x="${r(pad)}" y="${r(plotTop)}" width="${r(width - 2 * pad)}" height="${r(plotBottom - plotTop)}" fill="#f6f8fa" stroke="${GRID}" stroke-width="${r(2 * s)}"/>`,
    );
    out.push(
      text('No data', width / 2, (plotTop + plotBottom) / 2 + 12 * s, {
        size: 34 * s,
        weight: 'bold',
        anchor: 'middle',
        fill: MUTED,
      }),
    );
    out.push('</svg>');
    return `${out.join('\n')}\n`;
  }

  // Y range: from 0 unless the data goes below it, and always including the target.
  const values = series.flatMap((one) => one.points.map((p) => p.value));
  if (target) values.push(target.value);
  const low = Math.min(0, ...values);
  const high = Math.max(0, ...values);
  // A little headroom, so a target or a peak never sits on the top edge under the marker labels.
  const yTicks = niceTicks(
    low < 0 ? low - (high - low) * 0.03 : 0,
    high + (high - low) * 0.03,
    height >= 600 ? 6 : 5,
  );
  const yMin = yTicks[0] ?? 0;
  const yMax = yTicks[yTicks.length - 1] ?? 1;
  const yStep = yTicks.length > 1 ? (yTicks[1] ?? 1) - yMin : 1;
  const yLabels = yTicks.map((v) => formatNumber(v, { step: yStep, unit: spec.unit }));

  // X range: the data, widened to show every marker.
  const times = series.flatMap((one) => one.points.map((p) => p.ms)).concat(markers.map((m) => m.ms));
  let xMin = Math.min(...times);
  let xMax = Math.max(...times);
  if (xMax === xMin) {
    xMin -= 3_600_000;
    xMax += 3_600_000;
  }
  const subDay = xMax - xMin < SUB_DAY_SPAN_MS;

  // Horizontal layout first: it does not depend on how tall the header turns out.
  const yTitleWidth = spec.unit ? font.label * 1.4 : 0;
  const tickWidth = Math.max(...yLabels.map((l) => textWidth(l, font.label)));
  const plotLeft = pad + yTitleWidth + tickWidth + 12 * s;
  const plotRight = width - Math.max(pad, 36 * s);
  const x = (ms: number) => plotLeft + ((ms - xMin) / (xMax - xMin)) * (plotRight - plotLeft);

  const markerLabels = layoutMarkerLabels(markers, x, subDay, font.small, plotLeft - 20 * s, width - pad / 2);
  const markerRows = markerLabels.reduce((n, m) => Math.max(n, m.row + 1), 0);
  const plotTop = cursor + 12 * s + markerRows * 24 * s;
  const plotBottom = height - pad - font.label * 2.6 - 14 * s;
  const y = (v: number) => plotBottom - ((v - yMin) / (yMax - yMin)) * (plotBottom - plotTop);

  // Grid and y labels.
  yTicks.forEach((v, i) => {
    const yy = y(v);
    const stroke = v === 0 ? MUTED : GRID;
    out.push(
      `<line x1="${r(plotLeft)}" y1="${r(yy)}" x2="${r(plotRight)}" y2="${r(yy)}" stroke="${stroke}" stroke-width="${r((v === 0 ? 2 : 1.5) * s)}"/>`,
    );
    out.push(
      text(yLabels[i] ?? '', plotLeft - 10 * s, yy + font.label * 0.35, {
        size: font.label,
        anchor: 'end',
        fill: MUTED,
      }),
    );
  });
  if (spec.unit) {
    const cx = pad + font.label * 0.8;
    const cy = (plotTop + plotBottom) / 2;
    const unit = truncate(spec.unit.trim(), (plotBottom - plotTop) / (font.label * CHAR_WIDTH_EM));
    out.push(
      `<text x="${r(cx)}" y="${r(cy)}" font-size="${r(font.label)}" text-anchor="middle" fill="${MUTED}" transform="rotate(-90 ${r(cx)} ${r(cy)})">${escapeXml(unit)}</text>`,
    );
  }
  out.push(
    `<line x1="${r(plotLeft)}" y1="${r(plotBottom)}" x2="${r(plotRight)}" y2="${r(plotBottom)}" stroke="${MUTED}" stroke-width="${r(2 * s)}"/>`,
  );

  // X ticks and the axis title.
  const maxXTicks = Math.max(2, Math.floor((plotRight - plotLeft) / (110 * s)));
  const xTicks = timeTicks(xMin, xMax, maxXTicks);
  for (const ms of xTicks.ticks) {
    const xx = x(ms);
    out.push(
      `<line x1="${r(xx)}" y1="${r(plotBottom)}" x2="${r(xx)}" y2="${r(plotBottom + 8 * s)}" stroke="${MUTED}" stroke-width="${r(2 * s)}"/>`,
    );
    out.push(
      text(xTicks.label(ms), xx, plotBottom + 12 * s + font.label, {
        size: font.label,
        anchor: 'middle',
        fill: MUTED,
      }),
    );
  }
  out.push(
    text(xAxisTitle(xMin, xMax, subDay), (plotLeft + plotRight) / 2, height - pad, {
      size: font.small,
      anchor: 'middle',
      fill: MUTED,
    }),
  );

  // Markers and target under the data; their labels over it.
  const labels: string[] = [];
  for (const m of markerLabels) {
    const xx = x(m.ms);
    out.push(
      `<line class="marker" x1="${r(xx)}" y1="${r(plotTop - m.row * 24 * s - 6 * s)}" x2="${r(xx)}" y2="${r(plotBottom)}" stroke="${MARKER}" stroke-width="${r(2.5 * s)}" stroke-dasharray="${r(2 * s)} ${r(5 * s)}" stroke-linecap="round"/>`,
    );
    labels.push(
      text(m.text, m.x, plotTop - m.row * 24 * s - 10 * s, {
        size: font.small,
        anchor: m.anchor,
        weight: 'bold',
        fill: INK,
        halo: true,
      }),
    );
  }
  if (target) {
    const yy = y(target.value);
    out.push(
      `<line class="target" x1="${r(plotLeft)}" y1="${r(yy)}" x2="${r(plotRight)}" y2="${r(yy)}" stroke="${TARGET}" stroke-width="${r(3 * s)}" stroke-dasharray="${r(12 * s)} ${r(8 * s)}"/>`,
    );
    const above = yy - plotTop > 28 * s;
    const label = truncate(target.label, (plotRight - plotLeft) / 2 / (font.small * CHAR_WIDTH_EM));
    const baseline = above ? yy - 9 * s : yy + 9 * s + font.small;
    // A solid backdrop rather than a halo: series often cross the target where its label sits.
    labels.push(
      `<rect x="${r(plotLeft + 4 * s)}" y="${r(baseline - font.small * 1.05)}" width="${r(textWidth(label, font.small) + 12 * s)}" height="${r(font.small * 1.4)}" rx="${r(4 * s)}" fill="#ffffff" fill-opacity="0.9"/>`,
    );
    labels.push(text(label, plotLeft + 10 * s, baseline, { size: font.small, weight: 'bold', fill: TARGET }));
  }

  for (const one of series) {
    if (one.points.length === 0) continue;
    const d = one.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${r(x(p.ms))} ${r(y(p.value))}`).join(' ');
    out.push(
      `<path class="series" d="${d}" fill="none" stroke="${one.color}" stroke-width="${r(4 * s)}" stroke-linejoin="round" stroke-linecap="round"/>`,
    );
    // Dots where points are few enough to be told apart; a lone point needs one to show at all.
    if (one.points.length <= 40) {
      for (const p of one.points) {
        out.push(
          `<circle cx="${r(x(p.ms))}" cy="${r(y(p.value))}" r="${r(5 * s)}" fill="${one.color}" stroke="#ffffff" stroke-width="${r(1.5 * s)}"/>`,
        );
      }
    }
  }

  // With one series, its last value is the number the thread is about: say it on the chart.
  const only = series.length === 1 ? series[0] : undefined;
  const last = only?.points[only.points.length - 1];
  if (only && last) {
    const lx = x(last.ms);
    const ly = y(last.value);
    const targetY = target ? y(target.value) : Number.NaN;
    // Above the point, unless that runs off the plot or into the target line.
    const below = ly - plotTop < 30 * s || (targetY <= ly && targetY >= ly - 16 * s - font.label);
    labels.push(
      text(
        formatNumber(last.value, { unit: spec.unit }),
        lx - 8 * s,
        below ? ly + 12 * s + font.label : ly - 12 * s,
        {
          size: font.label,
          weight: 'bold',
          anchor: 'end',
          fill: only.color,
          halo: true,
        },
      ),
    );
  }
  out.push(...labels);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * The font files the charts are drawn with, by path: DejaVu Sans from the `dejavu-fonts-ttf`
 * npm package (a dependency), so rendering never depends on which fonts the machine has or on
 * fontconfig's discovery. Resolved once, on first use.
 */
let chartFontFiles: string[] | undefined;
export function chartFonts(): string[] {
  if (chartFontFiles) return chartFontFiles;
  const dir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  const files = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => join(dir, f));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0)
    throw new Error(`chart fonts missing: ${missing.join(', ')} (npm ci installs them)`);
  chartFontFiles = files;
  return files;
}

/**
 * The chart as a PNG, rasterised by resvg on libuv's thread pool (`renderAsync`), so a chart
 * never blocks the event loop, with DejaVu Sans loaded from its files and no system fonts.
 */
export async function renderChartPng(spec: ChartSpec): Promise<Buffer> {
  const image = await renderAsync(renderChartSvg(spec), {
    font: { loadSystemFonts: false, fontFiles: chartFonts(), defaultFontFamily: CHART_FONT_FAMILY },
    background: '#ffffff',
  });
  return image.asPng();
}

const ALT_TEXT_MAX = 2000;

/**
 * A sentence describing the chart for screen readers (Slack's `alt_text`), e.g.
 * "Line chart of bulk_export_total per week from 1 Oct to 30 Oct 2026: last value 180, target 200.
 * Launch marked on 1 Oct."
 */
export function chartAltText(spec: ChartSpec): string {
  const series = spec.series.map((one) => ({ name: one.name, points: cleanPoints(one.points) }));
  const times = series.flatMap((one) => one.points.map((p) => p.ms));
  const title = spec.title.trim() || 'untitled chart';
  if (times.length === 0) return clip(`Line chart of ${title}: no data.`);
  const start = Math.min(...times);
  const end = Math.max(...times);
  const subDay = end - start < SUB_DAY_SPAN_MS;

  const last = (points: { value: number }[]) => {
    const point = points[points.length - 1];
    return point ? formatWithUnit(point.value, spec.unit) : 'no data';
  };
  const only = series.length === 1 ? series[0] : undefined;
  let sentence = `Line chart of ${title} ${dateRange(start, end, subDay)}: `;
  sentence += only
    ? `last value ${last(only.points)}`
    : `last values ${series.map((one) => `${one.name} ${last(one.points)}`).join(', ')}`;
  if (spec.target && Number.isFinite(spec.target.value)) {
    sentence += `, target ${formatWithUnit(spec.target.value, spec.unit)}`;
  }
  sentence += '.';
  const endYear = utc(end).year;
  for (const m of [...(spec.markers ?? [])].sort((a, b) => a.at.toMillis() - b.at.toMillis())) {
    const label = m.label.trim();
    const at = m.at.toMillis();
    if (!label || !Number.isFinite(at)) continue;
    const when = subDay
      ? `at ${utc(at).toFormat('HH:mm')} UTC`
      : `on ${utc(at).toFormat(utc(at).year === endYear ? 'd LLL' : 'd LLL yyyy')}`;
    sentence += ` ${label.charAt(0).toUpperCase()}${label.slice(1)} marked ${when}.`;
  }
  return clip(sentence);
}

/** Text safe inside an SVG element or attribute: XML entities, and no characters XML forbids. */
export function escapeXml(value: string): string {
  return (
    value
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point.
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

interface Drawn {
  ms: number;
  value: number;
}

function cleanPoints(points: ChartPoint[]): Drawn[] {
  return points
    .map((p) => ({ ms: p.at.toMillis(), value: p.value }))
    .filter((p) => Number.isFinite(p.ms) && Number.isFinite(p.value))
    .sort((a, b) => a.ms - b.ms);
}

function layoutLegend(
  series: { name: string; color: string; points: Drawn[] }[],
  available: number,
  size: number,
  s: number,
): { rows: number; items: { x: number; row: number; label: string; color: string }[] } {
  const items: { x: number; row: number; label: string; color: string }[] = [];
  let x = 0;
  let row = 0;
  for (const one of series) {
    const label = truncate(one.points.length === 0 ? `${one.name} (no data)` : one.name, 40);
    const w = 36 * s + textWidth(label, size) + 28 * s;
    if (x > 0 && x + w > available) {
      x = 0;
      row += 1;
    }
    items.push({ x, row, label, color: one.color });
    x += w;
  }
  return { rows: row + 1, items };
}

interface MarkerLabel {
  ms: number;
  text: string;
  x: number;
  anchor: 'start' | 'middle' | 'end';
  row: number;
}

/** Marker labels above the plot, centred on their line, moved up a row when they would overlap. */
function layoutMarkerLabels(
  markers: { ms: number; label: string }[],
  x: (ms: number) => number,
  subDay: boolean,
  size: number,
  minX: number,
  maxX: number,
): MarkerLabel[] {
  const rowEnds: number[] = [];
  return markers.map((m) => {
    const when = utc(m.ms).toFormat(subDay ? 'HH:mm' : 'd LLL');
    const label = `${truncate(m.label.trim(), 30)} · ${when}`;
    const w = textWidth(label, size);
    const cx = x(m.ms);
    let left = Math.min(Math.max(cx - w / 2, minX), maxX - w);
    left = Math.max(left, minX);
    let row = rowEnds.findIndex((end) => end + 12 < left);
    if (row === -1) row = rowEnds.length;
    rowEnds[row] = left + w;
    return { ms: m.ms, text: label, x: left, anchor: 'start', row };
  });
}

function xAxisTitle(xMin: number, xMax: number, subDay: boolean): string {
  if (!subDay) {
    const a = utc(xMin).year;
    const b = utc(xMax).year;
    return a === b ? `Date (UTC), ${a}` : `Date (UTC), ${a}–${b}`;
  }
  const a = utc(xMin);
  const b = utc(xMax);
  return a.hasSame(b, 'day')
    ? `Time (UTC), ${a.toFormat('d LLL yyyy')}`
    : `Time (UTC), ${a.toFormat('d LLL')} – ${b.toFormat('d LLL yyyy')}`;
}

function dateRange(start: number, end: number, subDay: boolean): string {
  const a = utc(start);
  const b = utc(end);
  if (start === end) {
    const day = a.toFormat('d LLL yyyy');
    return a.hour === 0 && a.minute === 0 ? `on ${day}` : `at ${a.toFormat('HH:mm')} UTC on ${day}`;
  }
  if (subDay) {
    return a.hasSame(b, 'day')
      ? `from ${a.toFormat('HH:mm')} to ${b.toFormat('HH:mm')} UTC on ${b.toFormat('d LLL yyyy')}`
      : `from ${a.toFormat('d LLL HH:mm')} to ${b.toFormat('d LLL yyyy HH:mm')} UTC`;
  }
  return a.year === b.year
    ? `from ${a.toFormat('d LLL')} to ${b.toFormat('d LLL yyyy')}`
    : `from ${a.toFormat('d LLL yyyy')} to ${b.toFormat('d LLL yyyy')}`;
}

function text(
  content: string,
  x: number,
  y: number,
  style: {
    size: number;
    anchor?: 'start' | 'middle' | 'end';
    weight?: 'bold';
    fill?: string;
    halo?: boolean;
  },
): string {
  const attrs = [`x="${r(x)}"`, `y="${r(y)}"`, `font-size="${r(style.size)}"`];
  if (style.anchor && style.anchor !== 'start') attrs.push(`text-anchor="${style.anchor}"`);
  if (style.weight) attrs.push(`font-weight="${style.weight}"`);
  if (style.fill) attrs.push(`fill="${style.fill}"`);
  // A white outline drawn under the glyphs keeps labels readable where they cross lines.
  if (style.halo) {
    attrs.push(
      `stroke="#ffffff" stroke-width="${r(style.size / 4)}" stroke-linejoin="round" paint-order="stroke"`,
    );
  }
  return `<text ${attrs.join(' ')}>${escapeXml(content)}</text>`;
}

function textWidth(content: string, size: number): number {
  return [...content].length * size * CHAR_WIDTH_EM;
}

function truncate(content: string, maxChars: number): string {
  const chars = [...content.trim()];
  const max = Math.max(4, Math.floor(maxChars));
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}

function clip(sentence: string): string {
  return sentence.length <= ALT_TEXT_MAX ? sentence : `${sentence.slice(0, ALT_TEXT_MAX - 1)}…`;
}

function clampSize(value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || !Number.isFinite(value)) return fallback;
  return Math.round(Math.min(max, Math.max(min, value)));
}

/** Coordinates to 0.1px: enough for rendering, and stable in snapshots. */
function r(n: number): number {
  const v = Math.round(n * 10) / 10;
  return v === 0 ? 0 : v;
}
