import { Code, ConnectError } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/health/v1/health_pb.js";
import type { HealthCheckResponse } from "../../gen/health/v1/health_pb.js";
import type { CallContext } from "../api/call-context.js";
import { registration, type ServiceRegistration } from "../api/service-handlers.js";
import type { HealthState, ServingStatus } from "./health-state.js";

function toStatus(status: ServingStatus | undefined): Status {
  if (status === undefined) return Status.SERVICE_UNKNOWN;
  return status === "SERVING" ? Status.SERVING : Status.NOT_SERVING;
}

/**
 * grpc.health.v1.Health over a HealthState, written once for both listeners. Semantics follow
 * https://github.com/grpc/grpc/blob/master/doc/health-checking.md: Check answers NOT_FOUND for an
 * unknown name, Watch answers SERVICE_UNKNOWN and keeps watching, since the name may appear later.
 */
export function healthHandlers(state: HealthState): ServiceRegistration {
  return registration(Health, {
    check(request) {
      const status = state.get(request.service);
      if (status === undefined) {
        throw new ConnectError(`unknown service ${JSON.stringify(request.service)}`, Code.NotFound);
      }
      return { status: toStatus(status) };
    },
    watch: (request, context) => watch(state, request.service, context),
    list() {
      const statuses: Record<string, { status: Status }> = {};
      for (const [service, status] of state.entries()) statuses[service] = { status: toStatus(status) };
      return { statuses };
    },
  });
}

/**
 * Sends the current status, then each change, until the call ends. Only the latest status matters to
 * a health checker, so a slow reader sees the newest status rather than a backlog of flips.
 */
async function* watch(
  state: HealthState,
  service: string,
  context: CallContext,
): AsyncGenerator<{ status: HealthCheckResponse["status"] }> {
  let wake: (() => void) | undefined;
  const nudge = (): void => wake?.();
  const unsubscribe = state.subscribe((changed) => {
    if (changed === service) nudge();
  });
  context.signal.addEventListener("abort", nudge);
  try {
    let sent: Status | undefined;
    while (!context.signal.aborted) {
      const current = toStatus(state.get(service));
      if (current !== sent) {
        sent = current;
        yield { status: current };
        continue; // re-read: the status may have changed while the reader was busy
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    unsubscribe();
    context.signal.removeEventListener("abort", nudge);
  }
}
