import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { ServiceRegistration } from "../api/service-handlers.js";
import { createConnectionTracker } from "./connection-tracker.js";
import { createCorsHandler } from "./cors.js";
import { createFileDescriptors } from "./file-descriptors.js";
import { healthHandlers } from "./health-handlers.js";
import type { HealthState } from "./health-state.js";
import type { HttpRequest, HttpResponse } from "./http-exchange.js";
import type { Listener } from "./listener.js";
import { sniffProtocol } from "./protocol-sniffer.js";
import { reflectionHandlers } from "./reflection-handlers.js";
import type { TransportLogger } from "./transport-logger.js";

export interface ConnectListenerOptions {
  readonly registrations: readonly ServiceRegistration[];
  readonly host: string;
  /** 0 picks a free port; `start()` tells which. */
  readonly port: number;
  /** Browser origins allowed by CORS; "*" allows any. Empty: no CORS headers at all. */
  readonly corsAllowedOrigins: readonly string[];
  readonly health: HealthState;
  /** Plain HTTP endpoints (GET /health, …) tried before the RPC routes; returns true if it answered. */
  readonly httpRoutes?: (req: HttpRequest, res: HttpResponse) => boolean;
  readonly logger: TransportLogger;
  /** Largest request message accepted. @default Connect's 4 GiB */
  readonly maxRequestBytes?: number;
}

/** A connection that has not sent its first bytes by then is dropped. */
const sniffTimeoutMs = 10_000;

/**
 * One port for browsers, services and tools: gRPC, gRPC-Web and Connect (JSON and binary) over
 * HTTP/2 cleartext with prior knowledge and over HTTP/1.1, plus the health and reflection services.
 */
export function createConnectListener(options: ConnectListenerOptions): Listener {
  const { logger } = options;
  const registrations = [healthHandlers(options.health), ...options.registrations];
  const reflection = reflectionHandlers(createFileDescriptors(registrations.map((r) => r.service)));
  // Aborted when the grace period ends, so that streaming handlers (health Watch) return.
  const shutdown = new AbortController();

  const rpc = connectNodeAdapter({
    routes(router: ConnectRouter) {
      for (const { service, handlers } of registrations) {
        // The one cast: Connect's HandlerContext is a structural superset of our CallContext.
        router.service(service, handlers as unknown as Partial<ServiceImpl<DescService>>);
      }
      router.service(ServerReflectionV1, reflection.v1);
      router.service(ServerReflectionV1Alpha, reflection.v1alpha);
    },
    shutdownSignal: shutdown.signal,
    ...(options.maxRequestBytes === undefined ? {} : { readMaxBytes: options.maxRequestBytes }),
  });
  const cors = createCorsHandler(options.corsAllowedOrigins);
  const tracker = createConnectionTracker();

  const handle = (req: HttpRequest, res: HttpResponse): void => {
    if (cors(req, res)) return;
    if (options.httpRoutes?.(req, res)) return;
    rpc(req, res);
  };
  // Streams (Watch, audit events) may stay open for hours: no whole-request timeout on HTTP/1.1.
  const http1Server = http.createServer({ requestTimeout: 0 }, (req, res) => {
    tracker.http1Request(req, res);
    handle(req, res);
  });
  const http2Server = http2.createServer({}, handle);
  http2Server.on("session", (session) => tracker.session(session));
  http2Server.on("sessionError", (err) => logger.warn({ err }, "HTTP/2 session error"));

  const tcpServer = net.createServer({ noDelay: true }, (socket) => {
    tracker.accepted(socket);
    sniffProtocol(socket, sniffTimeoutMs, (sniffed, protocol) => {
      tracker.dispatched(sniffed, protocol);
      (protocol === "h2" ? http2Server : http1Server).emit("connection", sniffed);
    });
  });

  let stopping: Promise<void> | undefined;
  return {
    start() {
      return new Promise((resolve, reject) => {
        tcpServer.once("error", reject);
        tcpServer.listen(options.port, options.host, () => {
          tcpServer.off("error", reject);
          tcpServer.on("error", (err) => logger.error({ err }, "Connect listener error"));
          resolve({ port: (tcpServer.address() as net.AddressInfo).port });
        });
      });
    },
    stop(graceMs) {
      stopping ??= (async () => {
        tcpServer.close();
        tracker.drain();
        const timer = setTimeout(() => {
          logger.warn({ grace_ms: graceMs }, "Connect calls still running after the grace period; cutting them");
          shutdown.abort();
          tracker.destroyAll();
        }, graceMs);
        await tracker.closed();
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
