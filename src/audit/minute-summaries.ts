import { type Logger } from '@nestjs/common';

export const MINUTE_MS = 60_000;

/** One closed window: how many times `key` was noted in it, and the first occurrence. */
export interface MinuteSummary<T> {
  key: string;
  first: T;
  count: number;
  /** Window start (inclusive), epoch ms, a multiple of the window length. */
  from: number;
  /** Window end (exclusive), epoch ms. */
  to: number;
}

export interface MinuteSummariesOptions<T> {
  /** Appends one summary. Called once per window, when it has closed or on `flush(true)`. */
  write: (summary: MinuteSummary<T>) => Promise<void>;
  /** Open windows kept; past it, a new key is asked for its `overflow` instead. */
  maxWindows: number;
  /**
   * The shared window a new key joins once `maxWindows` are open (e.g. one per chain and route),
   * with the item to report for it. Without it, a new key past the bound is still counted (the
   * bound is then soft, for callers whose keys are already bounded elsewhere).
   */
  overflow?: (key: string, item: T) => { key: string; item: T };
  /** Where a failed write is logged, and with what message (the summary is then lost). */
  logger: Logger;
  failureMessage: string;
  windowMs?: number;
  sweepMs?: number;
}

/**
 * Counts keyed occurrences per fixed window (a minute by default) in memory and hands each
 * (key, window) to `write` once, complete, after its window has closed — so a burst of N becomes
 * one append with `count: N`, never N appends. `note()` is synchronous and I/O-free: safe on a
 * hot path. A sweep every `sweepMs` writes the closed windows, so a summary lands at most
 * `windowMs + sweepMs` after its first occurrence; `flush(true)` writes the open ones too (call it
 * at shutdown from `beforeApplicationShutdown`, and await it: the database closes only later, in
 * `onApplicationShutdown`). A crash loses the open windows. Memory is bounded by
 * `maxWindows` through `overflow`.
 */
export class MinuteSummaries<T> {
  private readonly windows = new Map<string, MinuteSummary<T>>();
  private readonly windowMs: number;
  private readonly sweepMs: number;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: MinuteSummariesOptions<T>) {
    this.windowMs = options.windowMs ?? MINUTE_MS;
    this.sweepMs = options.sweepMs ?? 10_000;
  }

  /** Open windows (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }

  /** Starts the sweep. Unref'd: it never keeps the process alive. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(false), this.sweepMs);
    this.timer.unref();
  }

  /** Stops the sweep and writes every window, open ones included. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush(true);
  }

  /** Counts one occurrence of `key`. */
  note(key: string, item: T): void {
    const from = Math.floor(Date.now() / this.windowMs) * this.windowMs;
    let id = `${from}|${key}`;
    let w = this.windows.get(id);
    if (!w && this.windows.size >= this.options.maxWindows && this.options.overflow) {
      ({ key, item } = this.options.overflow(key, item));
      id = `${from}|${key}`;
      w = this.windows.get(id);
    }
    if (w) w.count++;
    else this.windows.set(id, { key, first: item, count: 1, from, to: from + this.windowMs });
  }

  /** Writes the closed windows (every window with `all`). Serialised: one flush at a time. */
  flush(all = true): Promise<void> {
    this.flushing = this.flushing.then(() => this.write(all));
    return this.flushing;
  }

  private async write(all: boolean): Promise<void> {
    const now = Date.now();
    const due: MinuteSummary<T>[] = [];
    for (const [id, w] of this.windows) {
      if (all || w.to <= now) {
        due.push(w);
        this.windows.delete(id);
      }
    }
    for (const w of due) {
      try {
        await this.options.write(w);
      } catch (err) {
        this.options.logger.error({ err }, this.options.failureMessage);
      }
    }
  }
}
