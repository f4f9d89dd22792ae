# syntax=docker/dockerfile:1
# Roomkey's image: the compiled server and its CLI on a supported Node.js LTS, production
# dependencies only, run as the unprivileged `node` user.
#
# CI has no Docker daemon: scripts/check-image-build.sh copies the build stage's COPY sources into
# an empty folder and runs its RUN commands there. Keep the build stage's COPY lines plain
# (`COPY <source>… <destination>`) so that script can read them.

# Node.js 24 "Krypton": LTS until 2028-04-30 (Node 20 reached its end of life on 2026-04-30).
ARG NODE_IMAGE=node:24-bookworm-slim

# Compiles src/ (without specs) and migrations/ only: scripts/, bench/ and test/ are developer tools
# and never enter the image (tsconfig.server.json).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, so source edits do not invalidate the npm cache layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.server.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build:server

# Production dependencies from the lockfile: no compiler, no test tools, no GraphQL IDE.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    ROOMKEY_DATA_DIR=/app/.data
WORKDIR /app
# Code and dependencies stay owned by root: the server cannot rewrite what it runs.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The embedded database and its generated keys (used only without DATABASE_URL) live here.
RUN mkdir -p /app/.data && chown node:node /app/.data
VOLUME ["/app/.data"]
USER node
EXPOSE 3000
# Readiness, not liveness: healthy means the database answers and the instance is not draining.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
