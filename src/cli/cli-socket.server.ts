import * as fs from 'node:fs';
import * as net from 'node:net';
import { Writable } from 'node:stream';
import { type INestApplicationContext, Logger } from '@nestjs/common';
import { type AppConfig } from '../common/config';
import {
  type CliFrame,
  type CliRequest,
  MAX_REQUEST_BYTES,
  cliSocketPath,
  frame,
  parseRequest,
  unsafeFolder,
  unsafeSocket,
} from './cli-socket';
import { type CliIo } from './cli-types';
import { executeCommand } from './run-command';
import { isCommandName } from './usage';

/** A connected client has this long to send its request line. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Commands run one at a time; a few more may wait their turn. */
const MAX_CONNECTIONS = 8;

export interface CliSocketServer {
  readonly path: string;
  /** Stops accepting, lets the running command finish, removes the socket file. */
  close(): Promise<void>;
}

/**
 * Serves the CLI's commands on `<data folder>/roomkey.sock` while this process holds the embedded
 * database (see cli-socket.ts for the protocol). Commands run inside this app, exactly as the CLI
 * runs them (same code, same audit events with actor "cli"). Returns null, with a warning, when
 * the socket cannot be offered safely; the server itself keeps running either way.
 */
export async function serveCliSocket(
  app: INestApplicationContext,
  config: AppConfig,
): Promise<CliSocketServer | null> {
  const logger = new Logger('CliSocket');
  const file = cliSocketPath(config.database);
  if (!file) {
    if (!config.database.url && !config.database.inMemory && process.platform !== 'win32')
      logger.warn(`No CLI socket: the data folder path is too long for a socket`);
    return null;
  }
  try {
    const problem = unsafeFolder(config.database.dataDir) ?? (await clearStale(file));
    if (problem) {
      logger.warn(`No CLI socket: ${problem}`);
      return null;
    }
    return await listen(app, config, file, logger);
  } catch (err) {
    logger.warn(`No CLI socket on ${file}: ${(err as Error).message}`);
    return null;
  }
}

/** A socket file left by a process that died: removed if nobody answers on it. */
async function clearStale(file: string): Promise<string | null> {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st) return null;
  if (!st.isSocket()) return `${file} exists and is not a socket`;
  if (await answers(file)) return `another process answers on ${file}`;
  fs.unlinkSync(file);
  return null;
}

function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createConnection(file);
    const done = (answered: boolean): void => {
      clearTimeout(timer);
      probe.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done(true), 2000); // a full backlog is still somebody
    probe.once('connect', () => done(true));
    probe.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'EACCES'));
  });
}

async function listen(
  app: INestApplicationContext,
  config: AppConfig,
  file: string,
  logger: Logger,
): Promise<CliSocketServer> {
  const waiting = new Set<net.Socket>(); // connected, request not yet accepted
  let queue: Promise<void> = Promise.resolve();
  let closing = false;

  const send = (sock: net.Socket, f: CliFrame): void => {
    if (!sock.destroyed && sock.writable) sock.write(frame(f));
  };
  const refuse = (sock: net.Socket, reason: string): void => {
    waiting.delete(sock);
    send(sock, { err: `Request refused: ${reason}` });
    sock.end(frame({ exit: 2 }));
    setTimeout(() => sock.destroy(), 1000).unref(); // whatever it still sends is not read for long
  };

  const run = async (sock: net.Socket, req: CliRequest): Promise<void> => {
    if (sock.destroyed) return; // the client gave up while waiting its turn
    if (closing) {
      send(sock, { err: 'Roomkey is shutting down; run the command again once it has stopped.' });
      sock.end(frame({ exit: 1 }));
      return;
    }
    const name = isCommandName(req.argv[0]) ? req.argv[0] : 'an unknown command';
    const started = Date.now();
    const stdout = rawOutput(sock);
    const io: CliIo = {
      out: (line) => send(sock, { out: line }),
      err: (line) => send(sock, { err: line }),
      stdout,
    };
    let code: number;
    try {
      code = await executeCommand(
        req.argv,
        { config, app: () => Promise.resolve(app), cwd: req.cwd },
        io,
      );
    } catch (err) {
      // Arguments are never logged: they may hold a password.
      logger.error({ err }, `CLI ${name} failed`);
      io.err(`${name} failed: ${(err as Error).message} (details in the server log)`);
      code = 1;
    }
    if (!stdout.writableEnded) stdout.end();
    logger.log(`CLI ${name} over the local socket: exit ${code} in ${Date.now() - started} ms`);
    if (!sock.destroyed) sock.end(frame({ exit: code }));
  };

  const accept = (sock: net.Socket, line: string): void => {
    waiting.delete(sock);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      refuse(sock, 'not a JSON line');
      return;
    }
    const req = parseRequest(parsed);
    if (typeof req === 'string') {
      refuse(sock, req);
      return;
    }
    queue = queue
      .then(() => run(sock, req))
      .catch((err: unknown) => logger.error({ err }, 'CLI socket request failed'));
  };

  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    waiting.add(sock);
    sock.on('error', () => undefined); // a client that went away needs no answer
    sock.on('close', () => waiting.delete(sock));
    sock.setTimeout(REQUEST_TIMEOUT_MS, () => {
      if (waiting.has(sock)) refuse(sock, `no request within ${REQUEST_TIMEOUT_MS / 1000} s`);
    });
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.setTimeout(0);
    };
    const onData = (chunk: Buffer): void => {
      const nl = chunk.indexOf(0x0a);
      const part = nl === -1 ? chunk : chunk.subarray(0, nl);
      size += part.length;
      if (size > MAX_REQUEST_BYTES) {
        stop();
        refuse(sock, `larger than ${MAX_REQUEST_BYTES} bytes`);
        return;
      }
      chunks.push(part);
      if (nl !== -1) {
        stop();
        accept(sock, Buffer.concat(chunks).toString('utf8'));
      }
    };
    // A client may also end its side right after a request without a newline.
    const onEnd = (): void => {
      stop();
      if (size === 0) refuse(sock, 'empty request');
      else accept(sock, Buffer.concat(chunks).toString('utf8'));
    };
    sock.on('data', onData);
    sock.on('end', onEnd);
  });
  server.maxConnections = MAX_CONNECTIONS;

  // Created 0600: the umask covers the moment between bind and chmod (bind is synchronous).
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const umask = process.umask(0o177);
    try {
      server.listen(file, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
  fs.chmodSync(file, 0o600);
  const problem = unsafeSocket(file);
  if (problem) {
    server.close();
    throw new Error(problem);
  }
  const inode = fs.lstatSync(file).ino;
  const removeFile = (): void => {
    try {
      if (fs.lstatSync(file).ino === inode) fs.unlinkSync(file);
    } catch {
      /* already gone */
    }
  };
  process.on('exit', removeFile); // also on process.exit() (a shutdown that timed out)
  logger.log(`CLI commands accepted on ${file}`);

  return {
    path: file,
    close: async () => {
      if (closing) return;
      closing = true;
      server.close();
      for (const sock of waiting) sock.destroy();
      await queue; // the running command finishes; queued ones are told to retry
      removeFile();
      process.off('exit', removeFile);
    },
  };
}

/** Raw output (an audit export) as data frames, with the socket's back-pressure. */
function rawOutput(sock: net.Socket): Writable {
  const out = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      if (sock.destroyed) {
        cb(new Error('the CLI went away'));
        return;
      }
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      if (sock.write(frame({ data: text }))) cb();
      else sock.once('drain', () => cb());
    },
  });
  out.on('error', () => undefined); // the export sees `destroyed` and stops
  sock.once('close', () => out.destroy());
  return out;
}
