import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

export interface RawBodyOptions {
  /** Bodies up to this size are kept. */
  limitBytes: number;
  /** Beyond this the connection is dropped instead of drained. */
  dropAfterBytes: number;
}

/** A body read raw: its bytes, or `tooLarge` when it was over the limit (read and discarded). */
export interface RawBody {
  raw?: Buffer;
  tooLarge: boolean;
}

/**
 * Reads a request body as raw bytes and calls `done` once, when it has ended. A body over
 * `limitBytes` is drained and flagged `tooLarge`; past `dropAfterBytes` the socket is closed and
 * `done` is never called (there is nobody left to answer).
 */
export function readRawBody(
  req: IncomingMessage,
  res: ServerResponse,
  opts: RawBodyOptions,
  done: (body: RawBody) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  let finished = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > opts.dropAfterBytes) {
      finished = true;
      req.destroy();
      res.destroy();
      return;
    }
    if (size > opts.limitBytes) {
      tooLarge = true;
      chunks.length = 0;
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (finished) return;
    finished = true;
    done(tooLarge ? { tooLarge } : { raw: Buffer.concat(chunks), tooLarge });
  });
  req.on('error', () => {
    finished = true;
  });
}

/**
 * Reads the body of matching requests as raw bytes, before any JSON parser sees it: webhook
 * signatures are computed over the exact bytes. A body over `limitBytes` is drained and flagged
 * (`req.rawBodyTooLarge`) so the route can answer in its own shape; past `dropAfterBytes` the
 * socket is closed. Body parsers skip a request whose stream has been consumed.
 */
export function rawBodyFor(pattern: RegExp, opts: RawBodyOptions): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST' || !pattern.test(req.path)) {
      next();
      return;
    }
    readRawBody(req, res, opts, (body) => {
      if (body.tooLarge) req.rawBodyTooLarge = true;
      else req.rawBody = body.raw;
      next();
    });
  };
}
