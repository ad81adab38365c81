import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { createGrpcListener } from "../../src/transport/grpc-listener.js";
import { createHealthState } from "../../src/transport/health-state.js";
import { recordingLogger, rejectionOf, testRegistrations } from "./fixtures.js";
import { listenerContract } from "./listener-contract.js";

listenerContract("grpc-js listener", ({ registrations, health, logger }) =>
  createGrpcListener({ registrations, health, logger, host: "127.0.0.1", port: 0 }),
);

describe("grpc-js listener", () => {
  const logger = recordingLogger();
  const listener = createGrpcListener({
    registrations: testRegistrations(),
    health: createHealthState(),
    logger,
    host: "127.0.0.1",
    port: 0,
  });
  let client: ReturnType<typeof createClient<typeof ResidencyService>>;

  beforeAll(async () => {
    const { port } = await listener.start();
    client = createClient(ResidencyService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
  });
  afterAll(() => listener.stop(1_000));

  it("tells handlers they run on the native gRPC listener", async () => {
    expect((await client.resolveAccess({ tenantId: "t1" })).decisionId).toBe("grpc-native");
  });

  it("hides an unexpected error behind INTERNAL and logs it", async () => {
    const error = await rejectionOf(client.getEffectivePolicy({}));
    expect(error).toMatchObject({ code: Code.Internal, rawMessage: "internal error" });
    expect(error.metadata.get("grpc-status-details-bin")).toBeNull();
    expect(logger.errors).toMatchObject([{ obj: { procedure: "/residency.v1.ResidencyService/GetEffectivePolicy" } }]);
  });
});
