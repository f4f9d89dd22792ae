import cors from 'cors';

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
