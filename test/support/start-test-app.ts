import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Interceptor } from "@connectrpc/connect";
import { pino } from "pino";
import { loadConfig, type Config } from "../../src/config.js";
import { createApp, type App, type AppOptions } from "../../src/server.js";
import { bearer, TEST_ADMIN_SUBJECT, TEST_SECRET_KEY, tokenFor, type TokenClaims } from "./auth.js";

export interface TestApp {
  readonly app: App;
  readonly config: Config;
  /** http://127.0.0.1:PORT of the Connect / gRPC / gRPC-Web listener. */
  readonly baseUrl: string;
  /** http://127.0.0.1:PORT of the native grpc-js listener. */
  readonly grpcUrl: string;
  /** http://127.0.0.1:PORT of the Prometheus listener (GET /metrics). */
  readonly metricsUrl: string;
  readonly dataDir: string;
  /** A token with role admin for every tenant (sub "test-admin"), signed with the app's SECRET_KEY. */
  readonly adminToken: string;
  /** `{ authorization: "Bearer <adminToken>" }`, for fetch, connectJson and per-call headers. */
  readonly authHeaders: Readonly<Record<string, string>>;
  /** An interceptor sending the admin token: `createGrpcTransport({ baseUrl: t.baseUrl, interceptors: [t.auth] })`. */
  readonly auth: Interceptor;
  /** Mints another token the app accepts (its secret, issuer and audience). */
  token(claims: TokenClaims): Promise<string>;
  stop(): Promise<void>;
  /** Stops the app and deletes its data directory. */
  cleanup(): Promise<void>;
}

/**
 * Starts the whole service on ephemeral ports with its own SQLite directory and a test SECRET_KEY (an env
 * may set its own; SECRET_KEY "" selects the development secret). `options` go to createApp (a logger
 * writing to a test stream, a span exporter); the default logger is silent. Every RPC needs a token:
 * `t.auth`, `t.authHeaders`, or `t.token(...)` for another principal.
 */
export async function startTestApp(env: Record<string, string> = {}, dataDir?: string, options: AppOptions = {}): Promise<TestApp> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), "residency-test-")));
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    GRPC_PORT: "0",
    METRICS_PORT: "0",
    DATA_DIR: dir,
    SHUTDOWN_GRACE_MS: "2000",
    SECRET_KEY: TEST_SECRET_KEY,
    ...env,
  });
  const { secretKey, issuer, audience } = config.auth;
  const token = (claims: TokenClaims) => tokenFor(claims, secretKey, { ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) });
  const adminToken = await token({ sub: TEST_ADMIN_SUBJECT, roles: ["admin"], tenants: ["*"] });
  const app = await createApp(config, { logger: pino({ level: "silent" }), ...options });
  const { port, grpcPort, metricsPort } = await app.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.stop();
  };
  return {
    app,
    config,
    baseUrl: `http://127.0.0.1:${port}`,
    grpcUrl: `http://127.0.0.1:${grpcPort}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    dataDir: dir,
    adminToken,
    authHeaders: { authorization: `Bearer ${adminToken}` },
    auth: bearer(adminToken),
    token,
    stop,
    async cleanup() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
