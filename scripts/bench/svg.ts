/** The latency chart (hand-written SVG): booking latency p50/p95/p99 per offered rate, log scale. */

export interface ChartRow {
  label: string;
  /** Achieved 201/s, printed under the label. */
  achieved: number;
  p50: number;
  p95: number;
  p99: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function latencyChart(rows: ChartRow[], title: string, subtitle: string, targetMs?: { at: string; ms: number }): string {
  const width = 760;
  const height = 420;
  const m = { left: 70, right: 150, top: 60, bottom: 70 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const max = Math.max(10, ...rows.flatMap((r) => [r.p99, targetMs?.ms ?? 0]));
  const min = 1;
  const top = 10 ** Math.ceil(Math.log10(max));
  const y = (v: number) => m.top + plotH - (Math.log10(Math.max(min, v)) / Math.log10(top)) * plotH;
  const group = plotW / Math.max(1, rows.length);
  const barW = Math.min(28, group / 4);
  const series: [keyof ChartRow, string, string][] = [
    ['p50', 'p50', '#4e79a7'],
    ['p95', 'p95', '#f28e2b'],
    ['p99', 'p99', '#e15759'],
  ];
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(`<text x="${m.left}" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`);
  parts.push(`<text x="${m.left}" y="42" fill="#555">${esc(subtitle)}</text>`);
  for (let v = 1; v <= top; v *= 10) {
    parts.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.left - 8}" y="${y(v) + 4}" text-anchor="end">${v} ms</text>`);
  }
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#333"/>`);
  parts.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#333"/>`);
  rows.forEach((row, i) => {
    const x0 = m.left + group * i + group / 2 - (barW * series.length) / 2;
    series.forEach(([key, , color], j) => {
      const v = row[key] as number;
      const yy = y(v);
      parts.push(`<rect x="${x0 + j * barW}" y="${yy}" width="${barW - 2}" height="${m.top + plotH - yy}" fill="${color}"><title>${esc(row.label)} ${String(key)} ${v} ms</title></rect>`);
      parts.push(`<text x="${x0 + j * barW + barW / 2 - 1}" y="${yy - 3}" text-anchor="middle" font-size="9">${Math.round(v)}</text>`);
    });
    const cx = m.left + group * i + group / 2;
    parts.push(`<text x="${cx}" y="${m.top + plotH + 18}" text-anchor="middle">${esc(row.label)}</text>`);
    parts.push(`<text x="${cx}" y="${m.top + plotH + 34}" text-anchor="middle" fill="#555">${Math.round(row.achieved)} 201/s</text>`);
  });
  if (targetMs) {
    const ty = y(targetMs.ms);
    parts.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${ty}" y2="${ty}" stroke="#59a14f" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${m.left + plotW + 6}" y="${ty + 4}" fill="#59a14f">target p99 &lt; ${targetMs.ms} ms (${esc(targetMs.at)})</text>`);
  }
  series.forEach(([, label, color], j) => {
    parts.push(`<rect x="${m.left + plotW + 10}" y="${m.top + j * 18}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${m.left + plotW + 28}" y="${m.top + j * 18 + 10}">${label}</text>`);
  });
  parts.push(`<text x="${m.left + plotW / 2}" y="${height - 12}" text-anchor="middle">offered booking rate (open loop) and saturation (closed loop)</text>`);
  parts.push(`<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">booking latency (log scale)</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
