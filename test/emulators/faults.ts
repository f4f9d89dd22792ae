/**
 * Shared plumbing for the vendor emulators in this folder: fault injection, a call recorder and
 * a tiny 127.0.0.1 HTTP server that wires both in front of an emulator's own handler.
 *
 * Every emulator exposes a `faults: FaultController` and a `calls: RecordedCall[]`. A test
 * switches a fault on with `faults.set({...})`, drives the code under test, and reads `calls`
 * to see exactly what reached the "vendor" (faulted requests are recorded too).
 *
 *   const ov = await startOpenViduEmulator({ secret: 's' });
 *   ov.faults.set({ status: 503, times: 2 });           // next two requests answer 503
 *   ov.faults.set({ hang: true, match: (m, p) => m === 'POST' && p.endsWith('/connection') });
 *   ov.faults.set({ latencyMs: 300 });                   // slow, then normal handling
 *   ov.faults.clear();
 *
 * Order inside one faulted request: latency first, then reset | hang | status/body/malformedJson
 * (the first that is set). A mode with only `latencyMs` delays the request and then lets the
 * emulator answer normally.
 */
import {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  createServer,
} from 'node:http';
import { type AddressInfo, type Socket } from 'node:net';

/** What to do to a request before the emulator sees it. All fields are optional. */
export type FaultMode = {
  /** Wait this long before doing anything else (alone: a slow but otherwise normal answer). */
  latencyMs?: number;
  /** Answer with this HTTP status (e.g. 500, 503) instead of the emulator's answer. */
  status?: number;
  /** Body for `status` (sent as is; default a small JSON error). */
  body?: string;
  /** Destroy the socket without answering (the client sees a connection reset). */
  reset?: boolean;
  /** Never answer; the client waits until its own timeout/abort. Released by `close()`. */
  hang?: boolean;
  /** Answer (status, default 200) with `Content-Type: application/json` and a body that is not JSON. */
  malformedJson?: boolean;
  /** Apply to the next N matching requests only, then clear itself (default: until `clear()`). */
  times?: number;
  /** Only requests for which this returns true are faulted (path without the query string). */
  match?: (method: string, path: string) => boolean;
};

/** One request as the emulator received it. */
export interface RecordedCall {
  method: string;
  /** Path without the query string, e.g. `/openvidu/api/sessions`. */
  path: string;
  /** Query string parameters (last value wins). */
  query: Record<string, string>;
  /** Node's lower-cased request headers. */
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the body was JSON, the raw text otherwise, `undefined` when empty. */
  body: unknown;
  /** The raw body bytes as text. */
  rawBody: string;
  /** `Date.now()` when the request was received. */
  at: number;
}

export const MALFORMED_JSON_BODY = '{"this is": not json';

export class FaultController {
  private mode: FaultMode | undefined;
  private remaining = Infinity;
  private disposed = false;
  private readonly hung = new Set<ServerResponse>();
  private readonly sleepers = new Set<() => void>();
  private appliedCount = 0;

  /** Replaces the current fault. */
  set(mode: FaultMode): void {
    this.mode = { ...mode };
    this.remaining = mode.times ?? Infinity;
    this.appliedCount = 0;
  }

  /** Removes the current fault (requests already hanging keep hanging until close). */
  clear(): void {
    this.mode = undefined;
    this.remaining = Infinity;
  }

  /** The fault currently armed, if any. */
  get current(): Readonly<FaultMode> | undefined {
    return this.mode;
  }

  /** How many requests the fault last passed to `set()` has been applied to. */
  get applied(): number {
    return this.appliedCount;
  }

  /**
   * Applies the armed fault to one request. Returns true when the fault took care of the
   * response (the emulator must not answer), false when normal handling should continue.
   */
  async apply(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const mode = this.mode;
    if (!mode || this.disposed) return false;
    if (this.remaining <= 0) {
      this.clear();
      return false;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (mode.match && !mode.match(req.method ?? 'GET', path)) return false;
    this.remaining -= 1;
    if (this.remaining <= 0) this.clear();
    this.appliedCount += 1;

    if (mode.latencyMs && mode.latencyMs > 0) {
      await this.sleep(mode.latencyMs);
      if (this.disposed || res.destroyed) return true;
    }
    if (mode.reset) {
      const socket = req.socket as Socket & { resetAndDestroy?: () => Socket };
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
      return true;
    }
    if (mode.hang) {
      this.hung.add(res);
      res.once('close', () => this.hung.delete(res));
      return true;
    }
    if (mode.malformedJson) {
      sendRaw(res, mode.status ?? 200, MALFORMED_JSON_BODY, 'application/json');
      return true;
    }
    if (mode.status !== undefined || mode.body !== undefined) {
      const status = mode.status ?? 200;
      const body = mode.body ?? JSON.stringify({ error: 'injected fault', status });
      sendRaw(res, status, body, looksLikeJson(body) ? 'application/json' : 'text/plain');
      return true;
    }
    return false;
  }

  /** Ends every wait and destroys every hung request. Emulators call this from `close()`. */
  dispose(): void {
    this.disposed = true;
    for (const wake of [...this.sleepers]) wake();
    for (const res of [...this.hung]) res.destroy();
    this.hung.clear();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}

/** Keeps every request an emulator receives, oldest first. */
export class CallRecorder {
  /** The live array (cleared in place, so references stay valid). */
  readonly calls: RecordedCall[] = [];

  record(req: IncomingMessage, raw: Buffer): RecordedCall {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rawBody = raw.toString('utf8');
    let body: unknown = undefined;
    if (rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = rawBody;
      }
    }
    const call: RecordedCall = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams.entries()),
      headers: { ...req.headers },
      body,
      rawBody,
      at: Date.now(),
    };
    this.calls.push(call);
    return call;
  }

  clear(): void {
    this.calls.length = 0;
  }
}

export function createRecorder(): CallRecorder {
  return new CallRecorder();
}

/** An emulator's request handler; runs after recording and fault injection. */
export type EmulatorHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  rawBody: Buffer,
) => void | Promise<void>;

export interface EmulatorServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Stops listening, ends waits, destroys hung and idle sockets. Idempotent; never waits on clients. */
  close(): Promise<void>;
}

export interface EmulatorServerOptions {
  faults: FaultController;
  recorder: CallRecorder;
  handle: EmulatorHandler;
  /** Port to listen on (default 0: any free port). Always bound to 127.0.0.1. */
  port?: number;
}

/** Starts a node:http server on 127.0.0.1 that records, applies faults, then calls `handle`. */
export async function startEmulatorServer(options: EmulatorServerOptions): Promise<EmulatorServer> {
  const { faults, recorder, handle } = options;
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    void (async () => {
      let raw: Buffer;
      try {
        raw = await readBody(req);
      } catch {
        return; // client went away mid-body
      }
      recorder.record(req, raw);
      if (await faults.apply(req, res)) return;
      await handle(req, res, raw);
    })().catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        sendRaw(res, 500, `emulator error: ${String(err)}`, 'text/plain');
      } else {
        res.destroy();
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        faults.dispose();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

/** Reads a whole request body. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Writes a complete response unless the socket is already gone. */
export function sendRaw(
  res: ServerResponse,
  status: number,
  body: string,
  contentType: string | undefined,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  const head: Record<string, string | number> = { ...headers };
  if (body.length > 0 && contentType) head['content-type'] = contentType;
  head['content-length'] = Buffer.byteLength(body);
  res.writeHead(status, head);
  res.end(body);
}

/** Writes a JSON response (`Content-Type: application/json`). */
export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  sendRaw(res, status, JSON.stringify(value), 'application/json', headers);
}

function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
