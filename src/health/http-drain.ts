import { type Server, type ServerResponse } from 'node:http';
import * as net from 'node:net';

/** How often connections left idle (keep-alive, nothing in flight) are closed once we stop accepting. */
const SWEEP_MS = 250;

/**
 * Graceful HTTP shutdown without connection resets.
 *
 * Closing a server with idle keep-alive connections races the clients: one that sends its next
 * request just as its socket is closed gets ECONNRESET. So, once draining begins, every response
 * (including those of requests already in flight) carries `Connection: close`, and clients move
 * off on their own while the server keeps accepting and serving for the drain period. Only then
 * does it stop accepting, close what is idle, and wait for the requests still running.
 */
export class HttpDrain {
  private readonly open = new Set<ServerResponse>();
  private draining = false;

  constructor(private readonly server: Server) {
    server.on('request', (_req, res: ServerResponse) => {
      if (this.draining) {
        closeAfter(res);
        return;
      }
      this.open.add(res);
      res.once('close', () => this.open.delete(res));
    });
  }

  /** From now on every response, and every one still being prepared, ends its connection. */
  begin(): void {
    this.draining = true;
    for (const res of this.open) closeAfter(res);
    this.open.clear();
  }

  /**
   * Stops accepting connections, closes idle ones, and waits for the requests still in flight.
   * At `deadline` (epoch ms) the remaining connections are cut. Resolves `true` when everything
   * finished on its own.
   */
  async close(deadline: number): Promise<boolean> {
    this.begin();
    const closed = new Promise<boolean>((resolve) => {
      if (!this.server.listening) resolve(true);
      // net's close only stops accepting. http's close would also close "idle" connections at
      // once, and a connection accepted a moment ago whose request is not parsed yet (a busy
      // event loop) counts as idle: its client would get a reset. Idle ones are swept below.
      else net.Server.prototype.close.call(this.server, () => resolve(true));
    });
    const sweep = setInterval(() => this.server.closeIdleConnections(), SWEEP_MS);
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
    });
    try {
      const finished = await Promise.race([closed, cut]);
      if (!finished) this.server.closeAllConnections();
      return finished;
    } finally {
      clearInterval(sweep);
      clearTimeout(timer);
    }
  }
}

function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}
