import cors from 'cors';
import { type NextFunction, type Request, type Response } from 'express';

/**
 * CORS headers for an allowed origin (echoed exactly, never `*`): the tenant's, or a join link's.
 * Credentials are allowed, so a front end on an allowed origin can call with its cookie session
 * (`credentials: 'include'`); the cookie itself is checked against the same origins.
 */
export const allowedCors = cors({
  origin: true,
  credentials: true,
  methods: ['GET', 'POST'],
  allowedHeaders: ['Authorization', 'Content-Type', 'X-Roomkey-Tenant', 'X-Request-Id'],
  exposedHeaders: ['X-Request-Id', 'X-Roomkey-Error-Code'],
  maxAge: 600,
  optionsSuccessStatus: 204,
});

/**
 * CORS for a browser request and the origins allowed for it: the headers when its `Origin` is
 * listed; otherwise none (`Vary: Origin`), and a bare 204 to a preflight, which the browser takes
 * as a refusal.
 */
export function answerCors(
  origins: readonly string[],
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  if (req.headers.origin !== undefined && origins.includes(req.headers.origin)) {
    allowedCors(req, res, next);
    return;
  }
  res.vary('Origin');
  if (req.method === 'OPTIONS') res.status(204).end();
  else next();
}
