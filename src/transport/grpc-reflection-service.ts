import { loadFileDescriptorSetFromBuffer, type PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { encodeFileDescriptorSet, type FileDescriptors } from "./file-descriptors.js";
import { toBuffer } from "./grpc-error-status.js";

/**
 * @grpc/reflection (v1 and v1alpha) for the grpc-js listener, describing the same files as the Connect
 * listener's reflection.
 *
 * It reads the `fileDescriptorProtos` of a proto-loader package definition. proto-loader rebuilds those
 * through protobufjs, which merges every file of a package into one and leaves each file's import list
 * empty (grpc/grpc-node#2595): reflection clients such as buf curl and grpcurl then cannot resolve
 * google.protobuf.Timestamp and drop the service. So the definition is loaded as usual, then its files
 * are swapped for the original protobuf-es FileDescriptorProtos, names and imports intact.
 */
export function createGrpcReflectionService(descriptors: FileDescriptors): ReflectionService {
  const packageDefinition = loadFileDescriptorSetFromBuffer(toBuffer(encodeFileDescriptorSet(descriptors)));
  const files = descriptors.files.map((file) => toBuffer(descriptors.encodedWithDependencies(file)[0] as Uint8Array));
  return new ReflectionService(withFiles(packageDefinition, files), { services: [...descriptors.serviceNames] });
}

function withFiles(packageDefinition: PackageDefinition, files: Buffer[]): PackageDefinition {
  const patched: PackageDefinition = {};
  for (const [name, definition] of Object.entries(packageDefinition)) {
    patched[name] =
      "fileDescriptorProtos" in definition ? ({ ...definition, fileDescriptorProtos: files } as typeof definition) : definition;
  }
  return patched;
}
