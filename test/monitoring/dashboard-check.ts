// The dashboards guard: which metrics a PromQL expression reads, and which queries of a Grafana dashboard read
// a metric the exporter does not export. Pure, so it can be tested on planted mistakes (dashboards.node.test.ts).

/** PromQL words that look like metric names but are not: aggregations, set operators, modifiers. */
const keywords = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'inf',
  'nan',
  'atan2',
]);
/** Series Prometheus makes itself that a dashboard may query besides the exporter's: scrape health. */
export const prometheusOwn = new Set(['up']);

/** Metric names an expression reads (Grafana variables substituted, label matchers and strings ignored). */
export function metricNames(expr: string): string[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings, in matchers or as arguments
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\$\{?\w+\}?/g, ' ') // Grafana variables
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\boffset\s+-?\d+\w*/g, ' ');
  const names = new Set<string>();
  for (const m of text.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = m as unknown as [string, string, string | undefined];
    const before = text[(m.index ?? 0) - 1];
    if (call !== undefined || keywords.has(name.toLowerCase()) || (before !== undefined && /[0-9.]/.test(before)))
      continue; // functions; 1e3, 5m
    names.add(name);
  }
  return [...names];
}

export interface Query {
  readonly dashboard: string;
  readonly panel: string;
  readonly expr: string;
}

/** Every PromQL query of a dashboard: panel targets (rows' nested panels too) and template variables. */
export function queriesOf(name: string, dashboard: { panels?: unknown[]; templating?: { list?: unknown[] } }): Query[] {
  const out: Query[] = [];
  const panels = [...(dashboard.panels ?? [])] as {
    title?: string;
    targets?: { expr?: string }[];
    panels?: unknown[];
  }[];
  for (let i = 0; i < panels.length && i < 1000; i++) {
    const p = panels[i]!;
    for (const t of p.targets ?? [])
      if (typeof t.expr === 'string') out.push({ dashboard: name, panel: p.title ?? '?', expr: t.expr });
    panels.push(...((p.panels ?? []) as typeof panels));
  }
  for (const v of (dashboard.templating?.list ?? []) as { name?: string; query?: unknown }[]) {
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    const inner = typeof q === 'string' ? /^(?:label_values|query_result)\((.*)\)$/.exec(q.trim())?.[1] : undefined;
    // label_values(METRIC_OR_SELECTOR, label): the selector part is PromQL; label_values(label) reads no metric.
    if (inner !== undefined && inner.includes(','))
      out.push({ dashboard: name, panel: `variable $${v.name}`, expr: inner.slice(0, inner.lastIndexOf(',')) });
  }
  return out;
}

/** Queries reading a metric neither the exporter nor Prometheus itself has: "dashboard / panel: metric". */
export function unknownMetrics(queries: readonly Query[], exported: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const q of queries) {
    for (const name of metricNames(q.expr))
      if (!exported.has(name) && !prometheusOwn.has(name)) problems.push(`${q.dashboard} / ${q.panel}: ${name}`);
  }
  return problems;
}

/** Metric families an exposition declares (# TYPE lines) and those with at least one sample. */
export function exportedFamilies(text: string): { declared: Set<string>; sampled: Set<string> } {
  const declared = new Set<string>();
  const sampled = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type !== null) declared.add(type[1] as string);
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line);
    if (sample !== null) sampled.add(sample[1] as string);
  }
  return { declared, sampled };
}
