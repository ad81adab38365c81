import { setMaxListeners } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { TLSSocket } from "node:tls";
import type { DescService } from "@bufbuild/protobuf";
import {
  createContextKey,
  createContextValues,
  type ConnectRouter,
  type ContextValues,
  type HandlerContext,
  type ServiceImpl,
} from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { CallContext, PeerCertificate } from "../api/call-context.js";
import type { ServiceRegistration } from "../api/service-handlers.js";
import { createConnectionTracker } from "./connection-tracker.js";
import { createCorsHandler } from "./cors.js";
import { createFileDescriptors } from "./file-descriptors.js";
import { healthHandlers } from "./health-handlers.js";
import type { HealthState } from "./health-state.js";
import type { HttpRequest, HttpResponse } from "./http-exchange.js";
import type { Listener } from "./listener.js";
import { peerCertificateFrom } from "./peer-certificate.js";
import { sniffProtocol } from "./protocol-sniffer.js";
import { reflectionHandlers } from "./reflection-handlers.js";
import type { TlsMaterial } from "./tls-material.js";
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
  /** Largest request message accepted (larger: RESOURCE_EXHAUSTED). @default Connect's 4 GiB */
  readonly maxRequestBytes?: number;
  /**
   * Serve TLS: HTTP/2 and HTTP/1.1 chosen by ALPN instead of preface sniffing; with a client CA, client
   * certificates are required and handed to handlers as `peerCertificate`. Undefined: cleartext.
   */
  readonly tls?: TlsMaterial | undefined;
}

/** A connection that has not sent its first bytes (or finished its TLS handshake) by then is dropped. */
const sniffTimeoutMs = 10_000;

/**
 * One port for browsers, services and tools: gRPC, gRPC-Web and Connect (JSON and binary) over
 * HTTP/2 (cleartext with prior knowledge, or TLS) and over HTTP/1.1, plus the health and reflection
 * services.
 */
export function createConnectListener(options: ConnectListenerOptions): Listener {
  const { logger } = options;
  const registrations = [healthHandlers(options.health), ...options.registrations];
  const reflection = reflectionHandlers(createFileDescriptors(registrations.map((r) => r.service)));
  // Aborted when the grace period ends, so that streaming handlers (health Watch) return.
  const shutdown = new AbortController();
  // Every in-flight call listens on this one signal (and lets go when it ends): not a leak, so no warning.
  setMaxListeners(0, shutdown.signal);

  const clientCertificates = options.tls?.clientCa !== undefined;
  const rpc = connectNodeAdapter({
    routes(router: ConnectRouter) {
      for (const { service, handlers } of registrations) {
        // The one cast: Connect's HandlerContext is a structural superset of our CallContext.
        const served = clientCertificates ? withPeerCertificate(handlers) : handlers;
        router.service(service, served as unknown as Partial<ServiceImpl<DescService>>);
      }
      router.service(ServerReflectionV1, reflection.v1);
      router.service(ServerReflectionV1Alpha, reflection.v1alpha);
    },
    shutdownSignal: shutdown.signal,
    ...(options.maxRequestBytes === undefined ? {} : { readMaxBytes: options.maxRequestBytes }),
    ...(clientCertificates ? { contextValues: peerCertificateValues } : {}),
  });
  const cors = createCorsHandler(options.corsAllowedOrigins);
  const tracker = createConnectionTracker();

  const handle = (req: HttpRequest, res: HttpResponse): void => {
    if (cors(req, res)) return;
    if (options.httpRoutes?.(req, res)) return;
    rpc(req, res);
  };
  let tcpServer: net.Server;
  if (options.tls === undefined) {
    // Streams (Watch, audit events) may stay open for hours: no whole-request timeout on HTTP/1.1.
    const http1Server = http.createServer({ requestTimeout: 0 }, (req, res) => {
      tracker.http1Request(req, res);
      handle(req, res);
    });
    const http2Server = http2.createServer({}, handle);
    http2Server.on("session", (session) => tracker.session(session));
    http2Server.on("sessionError", (err) => logger.warn({ err }, "HTTP/2 session error"));

    tcpServer = net.createServer({ noDelay: true }, (socket) => {
      tracker.accepted(socket);
      sniffProtocol(socket, sniffTimeoutMs, (sniffed, protocol) => {
        tracker.dispatched(sniffed, protocol);
        (protocol === "h2" ? http2Server : http1Server).emit("connection", sniffed);
      });
    });
  } else {
    const { cert, key, clientCa } = options.tls;
    // ALPN picks the protocol ("h2" or "http/1.1"; a client offering none speaks HTTP/1.1).
    const secureServer = http2.createSecureServer(
      {
        allowHTTP1: true,
        cert,
        key,
        ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: true }),
        handshakeTimeout: sniffTimeoutMs,
        noDelay: true,
      },
      (req, res) => {
        if (req.httpVersionMajor === 1) tracker.http1Request(req, res);
        handle(req, res);
      },
    );
    secureServer.on("secureConnection", (socket: TLSSocket) => {
      tracker.accepted(socket);
      tracker.dispatched(socket, socket.alpnProtocol === "h2" ? "h2" : "http/1.1");
    });
    secureServer.on("session", (session) => tracker.session(session));
    secureServer.on("sessionError", (err) => logger.warn({ err }, "HTTP/2 session error"));
    // A client without an acceptable certificate fails here, before any request.
    secureServer.on("tlsClientError", (err: Error & { code?: string }) =>
      logger.warn({ code: err.code, reason: err.message }, "TLS handshake refused"),
    );
    tcpServer = secureServer;
  }

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

/** Per request: a lazy reader of the connection's verified client certificate. */
const peerCertificateKey = createContextKey<(() => PeerCertificate | undefined) | undefined>(undefined, {
  description: "residency peer certificate",
});

function peerCertificateValues(req: HttpRequest): ContextValues {
  const values = createContextValues();
  // For HTTP/2 this is the compat layer's proxy, which forwards both members to the TLS socket.
  const socket = req.socket as Partial<TLSSocket>;
  let peer: { value: PeerCertificate | undefined } | undefined;
  values.set(peerCertificateKey, () => {
    peer ??= {
      value: socket.authorized === true && typeof socket.getPeerCertificate === "function" ? peerCertificateFrom(socket.getPeerCertificate()) : undefined,
    };
    return peer.value;
  });
  return values;
}

/** The handlers, each given a CallContext that also answers `peerCertificate` (Connect's context stays the prototype). */
function withPeerCertificate(handlers: ServiceRegistration["handlers"]): ServiceRegistration["handlers"] {
  const wrapped: Record<string, (request: never, context: CallContext) => unknown> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    wrapped[name] = (request, context) => {
      const connectContext = context as unknown as HandlerContext;
      const withPeer = Object.create(connectContext, {
        peerCertificate: { get: () => connectContext.values.get(peerCertificateKey)?.(), enumerable: true },
      }) as CallContext;
      return handler(request, withPeer);
    };
  }
  return wrapped;
}
