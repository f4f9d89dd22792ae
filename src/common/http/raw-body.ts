import { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

export interface RawBodyOptions {
  /** Bodies up to this size are kept in `req.rawBody`. */
  limitBytes: number;
  /** Beyond this the connection is dropped instead of drained. */
  dropAfterBytes: number;
}

/**
 * Reads the body of matching requests as raw bytes, before any JSON parser sees it: webhook
 * signatures are computed over the exact bytes, and Red5 must get HTTP 200 even for a body no
 * parser would accept. A body over `limitBytes` is drained and flagged (`req.rawBodyTooLarge`)
 * so the route can answer in its own shape; past `dropAfterBytes` the socket is closed.
 * Body parsers skip a request whose stream has been consumed.
 */
export function rawBodyFor(pattern: RegExp, opts: RawBodyOptions): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST' || !pattern.test(req.path)) {
      next();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      if (!req.rawBodyTooLarge) req.rawBody = Buffer.concat(chunks);
      next();
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > opts.dropAfterBytes) {
        done = true;
        req.destroy();
        res.destroy();
        return;
      }
      if (size > opts.limitBytes) {
        req.rawBodyTooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', finish);
    req.on('error', () => {
      done = true;
    });
  };
}
