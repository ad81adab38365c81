import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/health/v1/health_pb.js";
import { AuditService } from "../../gen/residency/v1/audit_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import type { ServiceRegistration } from "../../src/api/service-handlers.js";
import type { Listener } from "../../src/transport/listener.js";
import { createHealthState, type HealthState } from "../../src/transport/health-state.js";
import { bufCurl, recordingLogger, rejectionOf, testRegistrations } from "./fixtures.js";

export interface ListenerFactoryInput {
  readonly registrations: readonly ServiceRegistration[];
  readonly health: HealthState;
  readonly logger: ReturnType<typeof recordingLogger>;
}

/**
 * What both listeners must do alike, checked over gRPC (the one protocol they share): the same
 * handlers give the same answers, errors, health and reflection on either port.
 */
export function listenerContract(name: string, createListener: (input: ListenerFactoryInput) => Listener): void {
  describe(`${name}: shared contract`, () => {
    const health = createHealthState();
    const logger = recordingLogger();
    const listener = createListener({ registrations: testRegistrations(), health, logger });
    let baseUrl = "";
    const transport = () => createGrpcTransport({ baseUrl });

    beforeAll(async () => {
      const { port } = await listener.start();
      baseUrl = `http://127.0.0.1:${port}`;
    });
    afterAll(() => listener.stop(1_000));

    it("answers a unary call over gRPC", async () => {
      const client = createClient(ResidencyService, transport());
      const res = await client.listRegions({});
      expect(res.regions.map((region) => region.id)).toEqual(["eu-west"]);
    });

    it("passes request headers in and response headers out", async () => {
      const client = createClient(ResidencyService, transport());
      let requestId: string | null = null;
      const res = await client.resolveAccess(
        { tenantId: "t1" },
        { headers: { "x-request-id": "req-42" }, onHeader: (headers) => (requestId = headers.get("x-request-id")) },
      );
      expect(res).toMatchObject({ allowed: true, targetRegion: "eu-west" });
      expect(requestId).toBe("req-42");
    });

    it("delivers the error code, raw message and BadRequest details intact", async () => {
      const client = createClient(ResidencyService, transport());
      const error = await rejectionOf(client.resolveAccess({}));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toBe("tenant_id: required");
      const [badRequest] = error.findDetails(BadRequestSchema);
      expect(badRequest?.fieldViolations).toMatchObject([{ field: "tenant_id", description: "required" }]);
    });

    it("answers UNIMPLEMENTED for a method without a handler", async () => {
      const client = createClient(ResidencyService, transport());
      await expect(client.batchResolveAccess({})).rejects.toMatchObject({ code: Code.Unimplemented });
    });

    it("streams server-streaming responses", async () => {
      const client = createClient(AuditService, transport());
      const seqs: bigint[] = [];
      for await (const res of client.streamAuditEvents({ tenantId: "t1" })) {
        expect(res.event?.tenantId).toBe("t1");
        seqs.push(res.event?.seq ?? 0n);
      }
      expect(seqs).toEqual([1n, 2n, 3n]);
    });

    it("ends a stream with the error its handler threw midway", async () => {
      const client = createClient(AuditService, transport());
      const seqs: bigint[] = [];
      const error = await rejectionOf(
        (async () => {
          for await (const res of client.streamAuditEvents({ tenantId: "forbidden" })) seqs.push(res.event?.seq ?? 0n);
        })(),
      );
      expect(seqs).toEqual([1n]);
      expect(error).toMatchObject({ code: Code.PermissionDenied, rawMessage: "not yours" });
    });

    it("answers health Check, NOT_FOUND for an unknown service", async () => {
      const client = createClient(Health, transport());
      health.set("residency.v1.ResidencyService", "SERVING");
      expect((await client.check({ service: "residency.v1.ResidencyService" })).status).toBe(Status.SERVING);
      await expect(client.check({ service: "no.such.Service" })).rejects.toMatchObject({ code: Code.NotFound });
    });

    it("streams health changes to Watch", async () => {
      const client = createClient(Health, transport());
      health.set("", "NOT_SERVING");
      const seen: Status[] = [];
      for await (const res of client.watch({ service: "" })) {
        seen.push(res.status);
        if (seen.length === 1) health.set("", "SERVING");
        else break;
      }
      expect(seen).toEqual([Status.NOT_SERVING, Status.SERVING]);
    });

    it("answers Watch for an unknown service with SERVICE_UNKNOWN", async () => {
      const client = createClient(Health, transport());
      for await (const res of client.watch({ service: "no.such.Service" })) {
        expect(res.status).toBe(Status.SERVICE_UNKNOWN);
        break;
      }
    });

    for (const reflectProtocol of ["grpc-v1", "grpc-v1alpha"]) {
      it(`lists every method by reflection (${reflectProtocol})`, async () => {
        const out = await bufCurl(["--reflect-protocol", reflectProtocol, "--list-methods", baseUrl]);
        for (const method of [
          "residency.v1.ResidencyService/ResolveAccess",
          "residency.v1.ResidencyService/ListRegions",
          "residency.v1.AdminService/CreatePolicy",
          "residency.v1.AuditService/StreamAuditEvents",
          "grpc.health.v1.Health/Watch",
        ]) {
          expect(out).toContain(method);
        }
      });
    }

    it("can be called by a client that knows the schema only by reflection", async () => {
      const out = await bufCurl(["-d", "{}", `${baseUrl}/residency.v1.ResidencyService/ListRegions`]);
      expect(JSON.parse(out)).toMatchObject({ regions: [{ id: "eu-west" }] });
    });
  });
}
