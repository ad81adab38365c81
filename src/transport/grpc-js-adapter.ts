import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, DescMethod, MessageInitShape } from "@bufbuild/protobuf";
import type {
  sendUnaryData,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceDefinition,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { CallContext } from "../api/call-context.js";
import { binaryEncoderFor } from "../api/response-encoders.js";
import type { ServiceRegistration } from "../api/service-handlers.js";
import { flatMessageDecoder } from "./flat-message-decoder.js";
import { GrpcCallContext } from "./grpc-call-context.js";
import { grpcErrorStatus, toBuffer } from "./grpc-error-status.js";
import type { TransportLogger } from "./transport-logger.js";

type Handler = (request: unknown, context: CallContext) => unknown;

/** What a method's grpc-js handler needs, resolved once when the service is added, not per call. */
interface MethodSpec {
  readonly handler: Handler;
  readonly procedure: string;
  readonly logger: TransportLogger;
}

/**
 * A ServiceRegistration as a grpc-js service: the definition (paths and protobuf-es (de)serializers)
 * for every method of the service, and an implementation for each method that has a handler. grpc-js
 * answers the others UNIMPLEMENTED by itself. Client and bidi streaming are not handler shapes, so
 * such methods are always unimplemented here.
 */
export function grpcService(
  registration: ServiceRegistration,
  logger: TransportLogger,
): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const { service, handlers } = registration;
  const definition: Record<string, ServiceDefinition[string]> = {};
  const implementation: UntypedServiceImplementation = {};
  for (const method of service.methods) {
    definition[method.name] = methodDefinition(method);
    const handler = handlers[method.localName] as Handler | undefined;
    if (!handler) continue;
    const spec: MethodSpec = { handler, procedure: `/${service.typeName}/${method.name}`, logger };
    if (method.methodKind === "unary") {
      implementation[method.name] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
        serveUnary(spec, call, callback);
    } else if (method.methodKind === "server_streaming") {
      implementation[method.name] = (call: ServerWritableStream<unknown, unknown>) => void serveServerStreaming(spec, call);
    }
  }
  return { definition, implementation };
}

function methodDefinition(method: DescMethod): ServiceDefinition[string] {
  const kind = method.methodKind;
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream: kind === "client_streaming" || kind === "bidi_streaming",
    responseStream: kind === "server_streaming" || kind === "bidi_streaming",
    requestSerialize: serializer(method.input),
    requestDeserialize: deserializer(method.input),
    responseSerialize: serializer(method.output),
    responseDeserialize: deserializer(method.output),
    originalName: method.localName,
  };
}

// Handlers return init shapes (plain objects); `create` passes real messages through untouched.
function serializer(desc: DescMessage): (value: unknown) => Buffer {
  const encode = (value: unknown): Uint8Array => toBinary(desc, create(desc, value as MessageInitShape<DescMessage>));
  const fast = binaryEncoderFor(desc);
  if (fast === undefined) return (value) => toBuffer(encode(value));
  return (value) => toBuffer(fast(value) ?? encode(value));
}

function deserializer(desc: DescMessage): (bytes: Buffer) => unknown {
  const flat = flatMessageDecoder(desc);
  if (flat === undefined) return (bytes) => fromBinary(desc, bytes);
  return (bytes) => flat(bytes) ?? fromBinary(desc, bytes);
}

function serveUnary(spec: MethodSpec, call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void {
  const context = new GrpcCallContext(call);
  let result: unknown;
  try {
    result = spec.handler(call.request, context);
  } catch (error) {
    context.sendHeaders();
    callback(grpcErrorStatus(error, spec.procedure, spec.logger));
    return;
  }
  // Most decisions are synchronous: answer them without a promise round trip.
  if (result instanceof Promise) {
    void settleUnary(spec, context, callback, result);
    return;
  }
  context.sendHeaders();
  callback(null, result);
}

async function settleUnary(
  spec: MethodSpec,
  context: GrpcCallContext,
  callback: sendUnaryData<unknown>,
  result: Promise<unknown>,
): Promise<void> {
  let response: unknown;
  try {
    response = await result;
  } catch (error) {
    context.sendHeaders();
    callback(grpcErrorStatus(error, spec.procedure, spec.logger));
    return;
  }
  context.sendHeaders();
  callback(null, response);
}

async function serveServerStreaming(spec: MethodSpec, call: ServerWritableStream<unknown, unknown>): Promise<void> {
  const context = new GrpcCallContext(call);
  try {
    const messages = spec.handler(call.request, context) as AsyncIterable<unknown>;
    for await (const message of messages) {
      // Leaving the loop returns the handler's iterator, so its `finally` blocks run.
      if (call.cancelled) return;
      context.sendHeaders();
      if (!call.write(message)) await drained(call);
    }
    if (call.cancelled) return;
    context.sendHeaders();
    call.end();
  } catch (error) {
    // A handler failing because the client went away is not worth a log line.
    if (call.cancelled) return;
    context.sendHeaders();
    call.emit("error", grpcErrorStatus(error, spec.procedure, spec.logger));
  }
}

/** Resolves when the stream wants more, or is gone (grpc-js destroys it on cancel). */
function drained(call: ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off("drain", done);
      call.off("close", done);
      resolve();
    };
    call.on("drain", done);
    call.on("close", done);
  });
}
