import * as fs from 'node:fs';
import * as net from 'node:net';
import * as readline from 'node:readline';
import { type CliRequest, unsafeFolder, unsafeSocket } from './cli-socket';
import { type CliIo } from './cli-types';

/** A server that accepts connections answers at once; this only bounds a wedged one. */
const CONNECT_TIMEOUT_MS = 5000;

/** The socket exists but must not be used (not private to this user, or unreachable). */
export class CliSocketError extends Error {}

/**
 * Runs `argv` in the server answering on `file` and relays its output. Returns the command's exit
 * code, or null when no server answers (no socket, or one left behind by a server that died).
 * Refuses a socket or data folder that another user owns or could have replaced: the request
 * may carry a password.
 */
export async function runOverSocket(
  file: string,
  dataDir: string,
  argv: string[],
  io: CliIo,
): Promise<number | null> {
  if (!fs.existsSync(file)) return null;
  const problem = unsafeFolder(dataDir) ?? unsafeSocket(file);
  if (problem) throw new CliSocketError(`Refusing the server's CLI socket: ${problem}`);
  const sock = await connect(file);
  return sock ? exchange(sock, { argv, cwd: process.cwd() }, io) : null;
}

function connect(file: string): Promise<net.Socket | null> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(file);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new CliSocketError(`The server did not accept on ${file} within 5 s`));
    }, CONNECT_TIMEOUT_MS);
    const onError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT')
        resolve(null); // stale
      else
        reject(
          new CliSocketError(`Cannot reach the server on ${file}: ${err.code ?? err.message}`),
        );
    };
    sock.once('error', onError);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

function exchange(sock: net.Socket, req: CliRequest, io: CliIo): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  return new Promise((resolve) => {
    let code: number | null = null;
    let outputClosed = false;
    const lines = readline.createInterface({ input: sock, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (outputClosed) return;
      let f: Record<string, unknown> | null = null;
      try {
        f = JSON.parse(line) as Record<string, unknown> | null;
      } catch {
        /* answered below */
      }
      if (typeof f !== 'object' || f === null) {
        io.err('Unreadable answer from the server.');
        sock.destroy();
        return;
      }
      if (typeof f.out === 'string') io.out(f.out);
      else if (typeof f.err === 'string') io.err(f.err);
      else if (typeof f.data === 'string') {
        if (!stdout.write(f.data)) {
          lines.pause();
          stdout.once('drain', () => lines.resume());
        }
      } else if (typeof f.exit === 'number' && Number.isInteger(f.exit)) code = f.exit;
    });
    // Output closed by the reader (`| head`): stop quietly; the server sees us go and stops too.
    const onOutputError = (): void => {
      outputClosed = true;
      sock.destroy();
    };
    stdout.on('error', onOutputError);
    sock.on('error', () => undefined); // reported as a missing exit code below
    sock.on('close', () => {
      stdout.off('error', onOutputError);
      if (code === null && !outputClosed)
        io.err('The server closed the connection before the command finished.');
      resolve(code ?? 1);
    });
    sock.end(`${JSON.stringify(req)}\n`); // the server answers on its half of the connection
  });
}
