/** Numbers as people read them: 1.2k, 3.4M, 35%, 0.42. */
export function formatNumber(value: number, unit?: string): string {
  if (unit === '%') return `${trim(value * 100, 1)}%`;
  const abs = Math.abs(value);
  let text: string;
  if (abs >= 1e9) text = `${trim(value / 1e9, 1)}B`;
  else if (abs >= 1e6) text = `${trim(value / 1e6, 1)}M`;
  else if (abs >= 1e3) text = `${trim(value / 1e3, 1)}k`;
  else if (abs >= 100 || Number.isInteger(value)) text = String(Math.round(value));
  else text = String(trim(value, abs >= 1 ? 1 : 2));
  return unit ? `${text} ${unit}` : text;
}

function trim(value: number, digits: number): string {
  return String(Number(value.toFixed(digits)));
}
