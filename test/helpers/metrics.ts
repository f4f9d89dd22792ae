/**
 * Reading a Prometheus scrape (`/metrics`) in tests: the value of one sample, found by metric name
 * and its exact label set.
 */

/** The value of the sample of `name` whose labels are exactly `labels`; undefined when absent. */
export function metricSample(
  metrics: string,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  for (const line of metrics.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries(
      [...m[2].matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]),
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
