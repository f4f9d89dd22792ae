interface Waiting<J, R> {
  job: J;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
  /** `performance.now()` when it was submitted. */
  since: number;
}

/** What a GroupCommit reports as it works (for the metrics); never the key. */
export interface GroupCommitObserver {
  /** A batch of `size` jobs was written (one transaction). */
  batch(size: number): void;
  /** One job settled `seconds` after it was submitted, written (`ok`) or failed. */
  settled(seconds: number, ok: boolean): void;
}

/**
 * Group commit, per key: jobs submitted in the same turn of the event loop, or while a key's batch
 * is being written, wait, and are written together as the next batch, in the order they were
 * submitted. One batch per key is in
 * flight at a time, so a key's jobs never race each other for its lock; different keys proceed
 * in parallel. Each caller's promise settles when its own batch has been written.
 *
 * When a batch of several jobs fails, each of its jobs is written again on its own, so one bad
 * job fails only its own caller (the batch ran in one transaction, so nothing of it remains).
 */
export class GroupCommit<J, R> {
  private readonly queues = new Map<string, Array<Waiting<J, R>>>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    /** Writes one batch atomically and returns one result per job, in order. */
    private readonly write: (key: string, jobs: J[]) => Promise<R[]>,
    private readonly maxBatch: number,
    private readonly observer?: GroupCommitObserver,
  ) {}

  submit(key: string, job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const waiting = { job, resolve, reject, since: performance.now() };
      const queue = this.queues.get(key);
      if (queue) queue.push(waiting);
      else this.queues.set(key, [waiting]);
      // `drain` forgets the key in the same tick as it finds the queue empty, so a job submitted
      // at any moment either joins a running drain's next batch or starts a new drain.
      if (!this.running.has(key)) this.running.set(key, this.drain(key));
    });
  }

  /** Settles once every job submitted so far has been written (or has failed). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  private async drain(key: string): Promise<void> {
    for (;;) {
      // One turn of the event loop first: every job submitted by the requests being read right
      // now joins this batch. (The embedded database runs its statements on this thread, so
      // without it no request is read while a batch is written, and every batch held one job.)
      await new Promise<void>((resolve) => setImmediate(resolve));
      const queue = this.queues.get(key);
      if (!queue || queue.length === 0) {
        this.queues.delete(key);
        this.running.delete(key);
        return;
      }
      const batch = queue.splice(0, this.maxBatch);
      await this.writeBatch(key, batch);
    }
  }

  private async writeBatch(key: string, batch: Array<Waiting<J, R>>): Promise<void> {
    try {
      const results = await this.write(
        key,
        batch.map((w) => w.job),
      );
      this.observer?.batch(batch.length);
      this.settled(batch, true);
      batch.forEach((w, i) => w.resolve(results[i]));
      return;
    } catch (err) {
      if (batch.length === 1) {
        this.settled(batch, false);
        batch[0].reject(err);
        return;
      }
    }
    // Find the culprit: each job alone, in the original order.
    for (const w of batch) {
      try {
        const [result] = await this.write(key, [w.job]);
        this.observer?.batch(1);
        this.settled([w], true);
        w.resolve(result);
      } catch (err) {
        this.settled([w], false);
        w.reject(err);
      }
    }
  }

  private settled(jobs: Array<Waiting<J, R>>, ok: boolean): void {
    if (!this.observer) return;
    const now = performance.now();
    for (const w of jobs) this.observer.settled((now - w.since) / 1000, ok);
  }
}
