import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DatabaseSection } from '../common/config/config.types';

/**
 * The local socket through which the CLI reaches a running server on the embedded database
 * (PGlite lets one process open the data folder, and the server holds it). Protocol: the client
 * sends one JSON line `{"argv": [...], "cwd": "/abs"}`; the server answers with JSON lines
 * `{"out": line}`, `{"err": line}`, `{"data": chunk}` (raw output) and last `{"exit": code}`.
 * Only the user running Roomkey can connect: the socket is mode 0600 from its creation, and
 * both sides refuse a data folder or socket that another user owns or could replace.
 */
export const CLI_SOCKET_FILE = 'roomkey.sock';

/** Bytes of one request line; argv is a handful of short options. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** Socket paths are limited to 108 bytes on Linux and 104 on macOS, terminator included. */
const MAX_SOCKET_PATH_BYTES = 103;

export interface CliRequest {
  argv: string[];
  cwd: string;
}

export type CliFrame = { out: string } | { err: string } | { data: string } | { exit: number };

/**
 * The socket of a server on this database, or null where there is none: PostgreSQL (every
 * process connects itself), an in-memory database, Windows, or a folder path too long to bind.
 */
export function cliSocketPath(db: DatabaseSection): string | null {
  if (db.url || db.inMemory || process.platform === 'win32') return null;
  const file = path.join(db.dataDir, CLI_SOCKET_FILE);
  return Buffer.byteLength(file) <= MAX_SOCKET_PATH_BYTES ? file : null;
}

/** The user id of this process (the socket is never used where there is none). */
export function currentUid(): number {
  return process.getuid ? process.getuid() : -1;
}

/**
 * Why the data folder cannot hold a private socket, or null when it can: it must belong to this
 * user and be writable by nobody else (or another user could swap the socket for their own).
 */
export function unsafeFolder(dir: string, uid = currentUid()): string | null {
  const st = fs.statSync(dir);
  if (st.uid !== uid) return `${dir} belongs to user id ${st.uid}, not to this user (${uid})`;
  if ((st.mode & 0o022) !== 0)
    return `${dir} is writable by other users (mode ${octal(st.mode)}); run chmod 700 on it`;
  return null;
}

/** Why `file` is not this user's private socket, or null when it is. */
export function unsafeSocket(file: string, uid = currentUid()): string | null {
  const st = fs.lstatSync(file);
  if (!st.isSocket()) return `${file} is not a socket`;
  if (st.uid !== uid) return `${file} belongs to user id ${st.uid}, not to this user (${uid})`;
  if ((st.mode & 0o077) !== 0)
    return `${file} is open to other users (mode ${octal(st.mode)}, expected 600)`;
  return null;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(3, '0');
}

/** One frame per line; JSON escapes every newline inside the strings. */
export function frame(f: CliFrame): string {
  return `${JSON.stringify(f)}\n`;
}

/** Checks a parsed request line; returns the problem, or the request. */
export function parseRequest(value: unknown): CliRequest | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'the request must be a JSON object {"argv": [...], "cwd": "/absolute/folder"}';
  const { argv, cwd, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) return `unknown field(s): ${extra.join(', ')}`;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string'))
    return '"argv" must be a non-empty array of strings';
  if (typeof cwd !== 'string' || !path.isAbsolute(cwd) || cwd.includes('\0'))
    return '"cwd" must be an absolute path';
  return { argv, cwd };
}
