/**
 * Prometheus's text exposition format (version 0.0.4, what node_exporter's textfile collector
 * reads): one `# HELP` and one `# TYPE` line per family, then its samples, all of a family
 * together. Pure: families in, text out, in the order given.
 */

export type MetricType = 'counter' | 'gauge';

/** Label name and value, in the order they are printed. */
export type Label = readonly [name: string, value: string];

export interface Sample {
  labels: readonly Label[];
  value: number;
}

export interface MetricFamily {
  /** `crtos_unit_active`; a counter's ends in `_total`, as Prometheus's naming asks. */
  name: string;
  help: string;
  type: MetricType;
  samples: readonly Sample[];
}

/** A label value inside its double quotes: backslash, double quote and line feed are escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and line feed are escaped (a quote is not special there). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as the format spells it: Go's float syntax, with NaN and ±Inf by name. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function sampleLine(name: string, s: Sample): string {
  const labels = s.labels.length === 0 ? '' : `{${s.labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
  return `${name}${labels} ${formatValue(s.value)}\n`;
}

export function renderExposition(families: readonly MetricFamily[]): string {
  let out = '';
  for (const f of families) {
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) out += sampleLine(f.name, s);
  }
  return out;
}
