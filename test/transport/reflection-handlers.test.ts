import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  ServerReflection,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { Health } from "../../gen/health/v1/health_pb.js";
import { AuditService } from "../../gen/residency/v1/audit_service_pb.js";
import { ResidencyService } from "../../gen/residency/v1/residency_service_pb.js";
import { createFileDescriptors } from "../../src/transport/file-descriptors.js";
import { reflectionHandlers } from "../../src/transport/reflection-handlers.js";

const handlers = reflectionHandlers(createFileDescriptors([Health, ResidencyService, AuditService]));
const client = createClient(
  ServerReflection,
  createRouterTransport((router) => router.service(ServerReflection, handlers.v1)),
);

/** Sends one request on the bidi stream and returns the one answer. */
async function ask(messageRequest: ServerReflectionRequest["messageRequest"]): Promise<ServerReflectionResponse> {
  async function* requests() {
    yield { host: "localhost", messageRequest };
  }
  for await (const response of client.serverReflectionInfo(requests())) return response;
  throw new Error("no answer");
}

async function fileNames(messageRequest: ServerReflectionRequest["messageRequest"]): Promise<string[]> {
  const { messageResponse } = await ask(messageRequest);
  if (messageResponse.case !== "fileDescriptorResponse") throw new Error(`got ${messageResponse.case}`);
  return messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
}

describe("reflection handlers", () => {
  it("lists the registered services", async () => {
    const { messageResponse } = await ask({ case: "listServices", value: "*" });
    expect(messageResponse.case === "listServicesResponse" && messageResponse.value.service.map((s) => s.name)).toEqual([
      "grpc.health.v1.Health",
      "residency.v1.ResidencyService",
      "residency.v1.AuditService",
    ]);
  });

  it("answers a service symbol with its file first, then every transitive import", async () => {
    const names = await fileNames({ case: "fileContainingSymbol", value: "residency.v1.ResidencyService" });
    expect(names[0]).toBe("residency/v1/residency_service.proto");
    expect(names).toEqual(expect.arrayContaining(["google/protobuf/timestamp.proto", "residency/v1/types.proto"]));
    expect(new Set(names).size).toBe(names.length);
  });

  it.each([
    ["a method", "residency.v1.ResidencyService.ListRegions", "residency/v1/residency_service.proto"],
    ["a message", "residency.v1.AuditEvent", "residency/v1/audit.proto"],
    ["an enum", "residency.v1.AuditEventKind", "residency/v1/audit.proto"],
    ["a nested enum", "grpc.health.v1.HealthCheckResponse.ServingStatus", "health/v1/health.proto"],
    ["a well-known type", "google.protobuf.Timestamp", "google/protobuf/timestamp.proto"],
  ])("finds the file declaring %s", async (_, symbol, file) => {
    expect((await fileNames({ case: "fileContainingSymbol", value: symbol }))[0]).toBe(file);
  });

  it("finds a file by name", async () => {
    expect(await fileNames({ case: "fileByFilename", value: "residency/v1/types.proto" })).toEqual([
      "residency/v1/types.proto",
    ]);
  });

  it.each([
    ["an unknown symbol", { case: "fileContainingSymbol", value: "residency.v1.Nope" }],
    ["an unknown method", { case: "fileContainingSymbol", value: "residency.v1.ResidencyService.Nope" }],
    ["an unknown file", { case: "fileByFilename", value: "nope.proto" }],
    ["an extension", { case: "fileContainingExtension", value: { containingType: "residency.v1.AuditEvent", extensionNumber: 100 } }],
    ["the extensions of an unknown type", { case: "allExtensionNumbersOfType", value: "residency.v1.Nope" }],
  ] as const)("answers NOT_FOUND for %s", async (_, messageRequest) => {
    const { messageResponse } = await ask(messageRequest as ServerReflectionRequest["messageRequest"]);
    expect(messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: Code.NotFound } });
  });

  it("answers no extension numbers for a known message", async () => {
    const { messageResponse } = await ask({ case: "allExtensionNumbersOfType", value: "residency.v1.AuditEvent" });
    expect(messageResponse).toMatchObject({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "residency.v1.AuditEvent", extensionNumber: [] },
    });
  });
});
