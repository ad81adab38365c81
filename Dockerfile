# residency: one replica of the policy decision point. Build: docker build -t residency .
# Production mode needs DATABASE_URL (Postgres) and REDIS_URL (Redis) and SECRET_KEY; see docker-compose.yml.
FROM node:20-slim

# better-sqlite3 (the embedded store, also installed in production mode) compiles from source when no
# prebuilt binary is reachable.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
# The service runs its TypeScript through tsx (a dependency); dev dependencies (buf, typings, vitest) stay out.
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY gen ./gen
COPY proto ./proto
COPY src ./src

# The embedded store's directory, writable by the unprivileged user (unused when DATABASE_URL is set).
RUN mkdir -p /app/data && chown node:node /app/data
USER node

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    GRPC_PORT=50051 \
    METRICS_PORT=8001 \
    DATA_DIR=/app/data
EXPOSE 8000 50051 8001

# Readiness: 200 once the first snapshot is loaded and until shutdown begins.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

# npm start = node --import tsx src/main.ts; SIGTERM drains in-flight calls (SHUTDOWN_GRACE_MS) and exits 0.
CMD ["npm", "start"]
