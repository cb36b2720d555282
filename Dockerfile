# khuyenhoc-bot: compile with dev dependencies, run on Node 24 LTS with production dependencies only.
#   docker build -t khuyenhoc-bot .
# The image holds no redis-server: give it REDIS_URL (compose.yml does). Without DATABASE_URL it
# keeps an embedded PGlite database under DATA_DIR=/app/data (a volume).

# ---------------------------------------------------------------------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /app

# Prisma 6.19 with engineType "client" runs on WASM and needs no native engines. Pointing the
# engine variables at /dev/null stops the install scripts of @prisma/engines and @prisma/client
# and `prisma generate` from downloading binaries: `npm ci` only talks to the npm registry.
ENV PRISMA_SCHEMA_ENGINE_BINARY=/dev/null \
    PRISMA_QUERY_ENGINE_LIBRARY=/dev/null \
    PRISMA_SKIP_POSTINSTALL_GENERATE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1 \
    CHECKPOINT_DISABLE=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# Dependencies first (cached while only sources change). The package's postinstall runs
# `npm run prisma:generate`, which needs the schema and prisma.config.ts, and writes the client
# as TypeScript into src/generated/prisma.
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm ci

# tsc -p tsconfig.build.json compiles src/ (generated client included) into dist/; that config
# rewrites the generated client's "./enums.ts" imports to ".js" (rewriteRelativeImportExtensions).
# Pruning skips scripts: the postinstall (prisma generate) must not run again without the CLI.
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts

# ---------------------------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
WORKDIR /app
# Inside a container the port is published by Docker: listen on all of the container's interfaces.
ENV NODE_ENV=production \
    DATA_DIR=/app/data \
    HTTP_HOST=0.0.0.0 \
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072

# package.json carries "type": "module", which makes dist/*.js ES modules.
# Paths read at run time, relative to the compiled modules:
#   dist/infra/migrate.js               → ../../prisma/migrations        = /app/prisma/migrations
#   dist/domain/geo/seed-admin-units.js → ../../../prisma/seed/…json     = /app/prisma/seed
#   dist/i18n.js                        → ../locales                     = /app/locales
# Code stays owned by root (read-only for the app); only /app/data is writable.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/prisma ./prisma
COPY locales ./locales

RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]

# Webhook mode only (BOT_MODE=webhook): POST /telegram/webhook and GET /healthz on HTTP_PORT.
EXPOSE 8080

# /healthz exists only in webhook mode; in polling mode the check succeeds without a request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "if (process.env.BOT_MODE !== 'webhook') process.exit(0); fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || '8080') + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));"]

# node is PID 1 and handles SIGTERM itself (main.ts stops updates, then closes the database and Redis).
# GLIBC_TUNABLES (above) is `npm start`'s too: fixed malloc thresholds give a freed block of 128 KB
# or more back to the system (start-up's ~15 MB of freed buffers used to stay in the C heap).
# Same flags as `npm start`: --liftoff-only keeps V8 from recompiling the 9 MB PGlite WASM (and
# Prisma's) with its optimising compiler (40–110 MB); the heap limits collect the garbage of a busy
# minute sooner instead of growing the heap by 150 MB (live heap under the bench: 35–50 MB).
CMD ["node", "--liftoff-only", "--max-semi-space-size=8", "--max-old-space-size=128", "dist/main.js"]
