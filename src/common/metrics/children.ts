/** A metric whose children are bound by label values in `labelNames` order. */
interface Labelled<C> {
  labels(...values: string[]): C;
}

/**
 * One bound child per label set, made on first use and kept: the hot paths (a mint, an
 * authentication, an audit append) then cost a map lookup and an increment, without prom-client
 * checking and hashing the labels on every call. Label values must come from closed sets (see
 * MetricsService), so the map stays small.
 */
export class Children<C> {
  private readonly bound = new Map<string, C>();

  constructor(readonly metric: Labelled<C>) {}

  /** The child for these label values (in the metric's `labelNames` order). */
  of(...values: string[]): C {
    const key = values.join('\u0001');
    let child = this.bound.get(key);
    if (child === undefined) {
      child = this.metric.labels(...values);
      this.bound.set(key, child);
    }
    return child;
  }
}
