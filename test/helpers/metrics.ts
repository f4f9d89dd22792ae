/**
 * Reading a Prometheus scrape (`/metrics`) in tests: the value of one sample, found by metric name
 * and its exact label set.
 */

/**
 * The value of the sample of `name` whose labels are exactly `labels` (`{}`: the unlabelled
 * sample); undefined when absent.
 */
export function metricSample(
  metrics: string,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  for (const line of metrics.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]),
    );
    const wanted = Object.entries(labels);
    if (wanted.length === Object.keys(got).length && wanted.every(([k, v]) => got[k] === v))
      return Number(m[3]);
  }
  return undefined;
}

/** The value of `roomkey_http_requests_total` for one label set (0 when absent). */
export function httpRequests(metrics: string, labels: Record<string, string>): number {
  return metricSample(metrics, 'roomkey_http_requests_total', labels) ?? 0;
}

/** PromQL words that are not metric names. */
const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: every identifier that is not a function call, a
 * keyword, a label (in `{…}` matchers or `by (…)` clauses), a string, a number or a duration.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\[[^\]]*\]/g, ' '); // ranges
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const after = stripped.slice(m.index + word.length).trimStart();
    if (after.startsWith('(')) continue; // a function or aggregation
    if (PROMQL_KEYWORDS.has(word.toLowerCase())) continue;
    if (/^\d/.test(word) || /^\$/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

/** `# TYPE <name> <type>` lines of a scrape: metric family name to its type. */
export function metricTypes(scrape: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const m of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1], m[2]);
  return types;
}

/** Whether the scrape holds at least one sample of this exact series name. */
export function hasSample(scrape: string, name: string): boolean {
  return scrape.split('\n').some((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

/**
 * Why a series name read by a query is not on the scrape: undefined when its family is declared
 * (a histogram's `_bucket`, `_sum` and `_count`, a summary's `_sum` and `_count`, else the name
 * itself) and, with `withSamples`, the series has a sample.
 */
export function missingFromScrape(
  scrape: string,
  name: string,
  withSamples: boolean,
): string | undefined {
  const types = metricTypes(scrape);
  const suffix = /_(bucket|sum|count)$/.exec(name);
  const family = suffix ? name.slice(0, -suffix[0].length) : name;
  const familyType = types.get(family);
  const declared =
    suffix && (familyType === 'histogram' || (familyType === 'summary' && suffix[1] !== 'bucket'))
      ? true
      : types.has(name) && types.get(name) !== 'histogram'; // a histogram has only suffixed series
  if (!declared) return `${name}: no such metric on /metrics`;
  if (withSamples && !hasSample(scrape, name)) return `${name}: declared, but no sample`;
  return undefined;
}

/** Every `expr` of a Grafana dashboard (panels, rows' nested panels and their targets). */
export function dashboardExprs(dashboard: unknown): string[] {
  const exprs: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'expr' && typeof v === 'string') exprs.push(v);
        else walk(v);
      }
    }
  };
  walk(dashboard);
  return exprs;
}
