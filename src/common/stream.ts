import { once } from 'node:events';
import { type Writable } from 'node:stream';

/**
 * Writes with back-pressure. Resolves false when the destination closed (a client that went away),
 * so the producer stops instead of waiting forever for a 'drain' that never comes.
 */
export async function writeOrWait(out: Writable, chunk: string): Promise<boolean> {
  if (out.destroyed || out.writableEnded) return false;
  if (out.write(chunk)) return true;
  const ac = new AbortController();
  try {
    await Promise.race([
      once(out, 'drain', { signal: ac.signal }),
      once(out, 'close', { signal: ac.signal }),
    ]);
  } finally {
    ac.abort();
  }
  return !out.destroyed;
}
