import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Claims the embedded data folder for this process. PGlite cannot share its files between
 * processes; a second Roomkey on the same folder would corrupt it, so it is refused instead.
 * A lock left by a process that no longer runs is taken over.
 */
export class DataDirLockedError extends Error {}

export function lockDataDir(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'roomkey.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(file, 'utf8'));
      if (pid === process.pid) {
        throw new DataDirLockedError(`The data folder ${dir} is already open in this process`);
      }
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new DataDirLockedError(
          `The data folder ${dir} is in use by process ${pid}. Stop it, or set ROOMKEY_DATA_DIR or DATABASE_URL.`,
        );
      }
      fs.unlinkSync(file); // stale
    }
  }
  throw new Error(`Could not lock the data folder ${dir}`);
}

/**
 * The live process (other than this one) that holds the data folder, or null. Only reads: the CLI
 * asks before opening the folder, so it can say so in one line instead of failing inside Nest.
 */
export function dataDirHolder(dir: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dir, 'roomkey.pid'), 'utf8'));
  } catch {
    return null;
  }
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) ? pid : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
