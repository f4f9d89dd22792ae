import cors from 'cors';

/** CORS headers for an allowed origin (echoed exactly, never `*`): the tenant's, or a join link's. */
export const allowedCors = cors({
  origin: true,
  methods: ['GET', 'POST'],
  allowedHeaders: ['Authorization', 'Content-Type', 'X-Roomkey-Tenant', 'X-Request-Id'],
  exposedHeaders: ['X-Request-Id', 'X-Roomkey-Error-Code'],
  maxAge: 600,
  optionsSuccessStatus: 204,
});
