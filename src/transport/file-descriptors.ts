import { create, createRegistry, toBinary } from "@bufbuild/protobuf";
import type { DescFile, DescService, Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/**
 * The proto files behind a set of services, shared by both reflection implementations so that the
 * Connect and the grpc-js listener describe exactly the same API.
 */
export interface FileDescriptors {
  /** Full names of the services, in registration order. */
  readonly serviceNames: readonly string[];
  /** Every file, each after its dependencies. */
  readonly files: readonly DescFile[];
  fileByName(name: string): DescFile | undefined;
  /** The file declaring a service, method, message, enum or extension (nested ones too). */
  fileContainingSymbol(symbol: string): DescFile | undefined;
  /** The file declaring extension `number` of message `extendee`. */
  fileContainingExtension(extendee: string, number: number): DescFile | undefined;
  /** Field numbers of all known extensions of a message; `undefined` for an unknown message. */
  extensionNumbers(extendee: string): number[] | undefined;
  /** Serialized FileDescriptorProtos of the file and of everything it imports, the file first. */
  encodedWithDependencies(file: DescFile): Uint8Array[];
}

export function createFileDescriptors(services: readonly DescService[]): FileDescriptors {
  const files = dependencyOrder(services.map((service) => service.file));
  const byName = new Map(files.map((file) => [file.proto.name, file]));
  const registry: Registry = createRegistry(...files);
  // Encoded once: reflection clients ask for the same few files again and again.
  const encoded = new Map(files.map((file) => [file, toBinary(FileDescriptorProtoSchema, file.proto)]));

  function fileContainingSymbol(symbol: string): DescFile | undefined {
    const type = registry.get(symbol);
    if (type) return type.file;
    // Methods are not registry types: look up "pkg.Service" of "pkg.Service.Method".
    const dot = symbol.lastIndexOf(".");
    const service = dot > 0 ? registry.getService(symbol.slice(0, dot)) : undefined;
    return service?.methods.some((method) => method.name === symbol.slice(dot + 1)) ? service.file : undefined;
  }

  return {
    serviceNames: services.map((service) => service.typeName),
    files,
    fileByName: (name) => byName.get(name),
    fileContainingSymbol,
    fileContainingExtension(extendee, number) {
      const message = registry.getMessage(extendee);
      return message ? registry.getExtensionFor(message, number)?.file : undefined;
    },
    extensionNumbers(extendee) {
      if (!registry.getMessage(extendee)) return undefined;
      const numbers: number[] = [];
      for (const type of registry) {
        if (type.kind === "extension" && type.extendee.typeName === extendee) numbers.push(type.number);
      }
      return numbers;
    },
    encodedWithDependencies(file) {
      const closure = dependencyOrder([file]);
      // dependencyOrder puts the file last; reflection clients expect it first.
      return [file, ...closure.slice(0, -1)].map((f) => encoded.get(f) ?? toBinary(FileDescriptorProtoSchema, f.proto));
    },
  };
}

/** A serialized google.protobuf.FileDescriptorSet of the services' files, dependencies first. */
export function encodeFileDescriptorSet(descriptors: FileDescriptors): Uint8Array {
  return toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: descriptors.files.map((f) => f.proto) }));
}

/** The files and their transitive imports, each file after everything it imports, no repeats. */
function dependencyOrder(roots: readonly DescFile[]): DescFile[] {
  const ordered: DescFile[] = [];
  const seen = new Set<DescFile>();
  const visit = (file: DescFile): void => {
    if (seen.has(file)) return;
    seen.add(file);
    file.dependencies.forEach(visit);
    ordered.push(file);
  };
  roots.forEach(visit);
  return ordered;
}
