# SecureKey server image. Node 24 runs the TypeScript sources directly (type stripping), so the
# image holds the sources, the code generated from the proto and the runtime dependencies only.
#   docker build -t securekey .
#   docker run -p 8080:8080 -v securekey-data:/data securekey
# See docs/operations.md (configuration, the master key, backups, upgrades).

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Dev dependencies (buf, protoc-gen-es) only to generate src/gen from the proto. No install
# scripts: the build tools ship their binaries as optional dependencies.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY buf.yaml buf.gen.yaml ./
COPY proto ./proto
RUN npx --no-install buf generate
# Then the runtime dependencies alone (npm ci starts from an empty node_modules).
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    PORT=8080 \
    SECUREKEY_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY projections ./projections
COPY --from=build /app/src/gen ./src/gen
# The data directory (event store, read models, the generated master key) and node's compile cache
# of the stripped sources (src/compile-cache.ts; filled at the first start) belong to the
# unprivileged user the server runs as.
RUN mkdir -p /data node_modules/.cache/securekey && chown node:node /data node_modules/.cache/securekey
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (docker stop drains in-flight calls).
CMD ["node", "src/main.ts"]
