import type { ServiceImpl } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import type { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import type { ServerReflection as ServerReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { FileDescriptors } from "./file-descriptors.js";

/** The request fields both reflection versions share (they differ only in package name). */
interface ReflectionRequest {
  readonly host: string;
  readonly messageRequest:
    | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * gRPC server reflection (v1 and the v1alpha that older grpcurl and buf curl still use) for the
 * Connect listener, over protobuf-es descriptors. It is bidi streaming, so it is registered straight
 * on the Connect router rather than as a ServiceRegistration; it works over HTTP/2 gRPC only.
 */
export function reflectionHandlers(descriptors: FileDescriptors): {
  v1: ServiceImpl<typeof ServerReflectionV1>;
  v1alpha: ServiceImpl<typeof ServerReflectionV1Alpha>;
} {
  return {
    v1: {
      async *serverReflectionInfo(requests) {
        for await (const request of requests) {
          yield { validHost: request.host, originalRequest: request, messageResponse: answer(descriptors, request) };
        }
      },
    },
    v1alpha: {
      async *serverReflectionInfo(requests) {
        for await (const request of requests) {
          yield { validHost: request.host, originalRequest: request, messageResponse: answer(descriptors, request) };
        }
      },
    },
  };
}

function answer(descriptors: FileDescriptors, request: ReflectionRequest): ReflectionAnswer {
  const { messageRequest } = request;
  switch (messageRequest.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: descriptors.serviceNames.map((name) => ({ name })) } };
    case "fileByFilename":
      return files(descriptors, descriptors.fileByName(messageRequest.value), `file ${messageRequest.value}`);
    case "fileContainingSymbol":
      return files(descriptors, descriptors.fileContainingSymbol(messageRequest.value), `symbol ${messageRequest.value}`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = messageRequest.value;
      const file = descriptors.fileContainingExtension(containingType, extensionNumber);
      return files(descriptors, file, `extension ${extensionNumber} of ${containingType}`);
    }
    case "allExtensionNumbersOfType": {
      const numbers = descriptors.extensionNumbers(messageRequest.value);
      if (!numbers) return notFound(`type ${messageRequest.value}`);
      return { case: "allExtensionNumbersResponse", value: { baseTypeName: messageRequest.value, extensionNumber: numbers } };
    }
    default:
      return { case: "errorResponse", value: { errorCode: Code.InvalidArgument, errorMessage: "empty reflection request" } };
  }
}

function files(descriptors: FileDescriptors, file: ReturnType<FileDescriptors["fileByName"]>, what: string): ReflectionAnswer {
  if (!file) return notFound(what);
  return { case: "fileDescriptorResponse", value: { fileDescriptorProto: descriptors.encodedWithDependencies(file) } };
}

function notFound(what: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } };
}
