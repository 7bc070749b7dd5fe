/** Result rows of every suite, the printed table and the optional JSON file. */

export interface Figure {
  /** Throughput, in `unit` (higher is better). */
  value: number;
  unit: string;
  /** Latency percentiles and other context, printed beside the figure. */
  detail?: string;
}

export interface Row {
  suite: string;
  title: string;
  pulse: Figure | { pending: string };
  referenceName: string;
  reference: Figure;
  notes: string[];
  /**
   * Latency, memory, time to ready: the ratio is then reference / pulse, so that here too a
   * ratio of 1 or more means Pulse is at least as good as the reference (or a goal).
   */
  lowerIsBetter?: boolean;
}

export function isPending(figure: Row['pulse']): figure is { pending: string } {
  return 'pending' in figure;
}

export function ratioOf(row: Row): number | null {
  if (isPending(row.pulse) || row.reference.value <= 0) return null;
  if (row.lowerIsBetter) return row.pulse.value > 0 ? row.reference.value / row.pulse.value : null;
  return row.pulse.value / row.reference.value;
}

export function formatNumber(value: number): string {
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function figureText(figure: Row['pulse']): string {
  if (isPending(figure)) return `pending (${figure.pending})`;
  return `${formatNumber(figure.value)} ${figure.unit}`;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** The table, the one-line ratios ("pulse X, peer Y → Z×") and every row's notes. */
export function renderReport(rows: Row[]): string {
  const header = ['benchmark', 'pulse', 'reference', 'reference figure', 'pulse / reference'];
  const body = rows.map((row) => {
    const ratio = ratioOf(row);
    return [row.title, figureText(row.pulse), row.referenceName, figureText(row.reference), ratio === null ? '—' : `${ratio.toFixed(2)}×`];
  });
  const widths = header.map((cell, i) => Math.max(cell.length, ...body.map((line) => line[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => pad(cell, widths[i]!)).join(' | ')} |`;
  const out = [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line), ''];
  for (const row of rows) {
    const ratio = ratioOf(row);
    const pulse = isPending(row.pulse) ? `pending (${row.pulse.pending})` : `${formatNumber(row.pulse.value)} ${row.pulse.unit}`;
    out.push(
      `${row.title}: pulse ${pulse}, ${row.referenceName} ${formatNumber(row.reference.value)} ${row.reference.unit}` +
        (ratio === null ? '' : ` → ${ratio.toFixed(2)}×${row.lowerIsBetter ? ' (lower is better: reference / pulse)' : ''}`),
    );
    if (!isPending(row.pulse) && row.pulse.detail) out.push(`    pulse: ${row.pulse.detail}`);
    if (row.reference.detail) out.push(`    ${row.referenceName}: ${row.reference.detail}`);
    for (const note of row.notes) out.push(`    note: ${note}`);
  }
  return out.join('\n');
}
