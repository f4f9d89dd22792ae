/**
 * Per-key fair admission: at most `concurrency` tasks of one key run at once, at most `queue` more
 * wait, and the rest are refused at once. Per instance and in memory. Used so a flood on one
 * tenant occupies a bounded share of the database pool and the event loop, whatever its budget
 * allows per minute: another tenant's request never queues behind it.
 */
export class TenantGate {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  /** Runs `task` when the key has room; resolves `refused` (without running it) when it has none. */
  async run<T, R>(key: string, task: () => Promise<T>, refused: R): Promise<T | R> {
    if (!this.enter(key)) {
      const line = this.waiting.get(key) ?? [];
      if (line.length >= this.queue) return refused;
      await new Promise<void>((resolve) => {
        line.push(resolve);
        this.waiting.set(key, line);
      });
    }
    try {
      return await task();
    } finally {
      this.leave(key);
    }
  }

  /** Tasks of a key running now (for tests). */
  running(key: string): number {
    return this.active.get(key) ?? 0;
  }

  private enter(key: string): boolean {
    const n = this.active.get(key) ?? 0;
    if (n >= this.concurrency) return false;
    this.active.set(key, n + 1);
    return true;
  }

  /** Hands the slot straight to the next waiter, or frees it. */
  private leave(key: string): void {
    const line = this.waiting.get(key);
    const next = line?.shift();
    if (line && line.length === 0) this.waiting.delete(key);
    if (next) {
      next(); // the slot passes on: `active` stays the same
      return;
    }
    const n = (this.active.get(key) ?? 1) - 1;
    if (n <= 0) this.active.delete(key);
    else this.active.set(key, n);
  }
}
