import { Server, ServerCredentials } from "@grpc/grpc-js";
import type { ServiceRegistration } from "../api/service-handlers.js";
import { createFileDescriptors } from "./file-descriptors.js";
import { grpcService } from "./grpc-js-adapter.js";
import { createGrpcReflectionService } from "./grpc-reflection-service.js";
import { healthHandlers } from "./health-handlers.js";
import type { HealthState } from "./health-state.js";
import type { Listener } from "./listener.js";
import type { TlsMaterial } from "./tls-material.js";
import type { TransportLogger } from "./transport-logger.js";

export interface GrpcListenerOptions {
  readonly registrations: readonly ServiceRegistration[];
  readonly host: string;
  /** 0 picks a free port; `start()` tells which. */
  readonly port: number;
  readonly health: HealthState;
  readonly logger: TransportLogger;
  /** Largest request message accepted (larger: RESOURCE_EXHAUSTED). @default grpc-js's 4 MiB */
  readonly maxRequestBytes?: number;
  /** Serve TLS (and require client certificates when it has a client CA); undefined: cleartext. */
  readonly tls?: TlsMaterial | undefined;
}

/**
 * The native gRPC listener (grpc-js) for sidecars: the same registrations and health service as the
 * Connect listener, through the generic adapter, plus @grpc/reflection fed with the same file
 * descriptors.
 */
export function createGrpcListener(options: GrpcListenerOptions): Listener {
  const { logger } = options;
  const server = new Server(
    options.maxRequestBytes === undefined ? {} : { "grpc.max_receive_message_length": options.maxRequestBytes },
  );
  const registrations = [healthHandlers(options.health), ...options.registrations];
  for (const registration of registrations) {
    const { definition, implementation } = grpcService(registration, logger);
    server.addService(definition, implementation);
  }
  const descriptors = createFileDescriptors(registrations.map((registration) => registration.service));
  createGrpcReflectionService(descriptors).addToServer(server);

  let stopping: Promise<void> | undefined;
  return {
    start() {
      const host = options.host.includes(":") ? `[${options.host}]` : options.host;
      return new Promise((resolve, reject) => {
        server.bindAsync(`${host}:${options.port}`, credentials(options.tls), (error, port) => {
          if (error) reject(error);
          else resolve({ port });
        });
      });
    },
    stop(graceMs) {
      stopping ??= new Promise((resolve) => {
        // forceShutdown destroys the remaining sessions; their closing completes tryShutdown too.
        const timer = setTimeout(() => {
          logger.warn({ grace_ms: graceMs }, "gRPC calls still running after the grace period; cancelling them");
          server.forceShutdown();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return stopping;
    },
  };
}

/** With a client CA, grpc-js requests client certificates and the TLS handshake refuses unverified ones. */
function credentials(tls: TlsMaterial | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.clientCa !== undefined);
}
