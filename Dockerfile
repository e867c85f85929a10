# syntax=docker/dockerfile:1
#
# One image recipe for every service; SERVICE picks which one (allocator, booking, query, edge).
# Build from the repository root (the monorepo is the build context):
#   docker build --build-arg SERVICE=booking -t opd/booking .
# docker-compose.yml does this for you.
#
# Stages: manifests (package.json files only, so the npm ci layers stay cached until a manifest
# or the lockfile changes) -> dev-deps (full install; only tsx + esbuild are taken from it)
# -> prod-deps (--omit=dev) -> runtime (prod node_modules + tsx, then the sources).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY services/allocator/package.json services/allocator/
COPY services/booking/package.json services/booking/
COPY services/edge/package.json services/edge/
COPY services/query/package.json services/query/

# Full install: the services run TypeScript through tsx, a root devDependency.
# --ignore-scripts: no production dependency has an install script; the dev ones that do
# (@swc/core, ssh2, cpu-features, ...) are not shipped, and esbuild finds its platform binary
# (@esbuild/linux-*) without its postinstall.
FROM manifests AS dev-deps
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --include=dev --ignore-scripts --no-audit --no-fund

FROM manifests AS prod-deps
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
RUN test -n "$SERVICE" || (echo "build with --build-arg SERVICE=allocator|booking|query|edge" && exit 1)
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    SERVICE=${SERVICE}
# package.json files of every workspace (node_modules/@opd/* are symlinks to them).
COPY --from=manifests /app/ ./
# Production dependencies, plus tsx and its only dependency esbuild (with the platform binary).
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=dev-deps /app/node_modules/tsx ./node_modules/tsx
COPY --from=dev-deps /app/node_modules/esbuild ./node_modules/esbuild
COPY --from=dev-deps /app/node_modules/@esbuild ./node_modules/@esbuild
RUN mkdir -p node_modules/.bin \
    && ln -sf ../tsx/dist/cli.mjs node_modules/.bin/tsx \
    && node_modules/.bin/tsx --eval "const check: string = 'tsx + esbuild work'; console.log(check)" \
    && rm -rf /tmp/tsx-*
# Sources last: editing code does not invalidate the dependency layers.
COPY tsconfig.json tsconfig.base.json ./
COPY packages/shared/ packages/shared/
COPY services/${SERVICE}/ services/${SERVICE}/

# Files stay root-owned (read-only for the app); tsx writes its cache under /tmp.
USER node
# Liveness only (the process answers); docker-compose.yml overrides this with /readyz.
# Each service reads its own port variable; the defaults are those of config.ts.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "-e", "const p={allocator:process.env.ALLOCATOR_PORT||3003,booking:process.env.BOOKING_PORT||3001,query:process.env.QUERY_PORT||3002,edge:process.env.EDGE_PORT||8080}[process.env.SERVICE];fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The heap flags of `npm start` (scripts/lib/service-node-args.mjs; see docs/performance.md).
CMD ["sh", "-c", "exec node --max-semi-space-size=8 --heap-growing-percent=50 --import tsx services/$SERVICE/src/main.ts"]
