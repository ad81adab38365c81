/**
 * What a handler may know about its call, whichever listener carried it. Connect's HandlerContext
 * satisfies it as it is; the native gRPC listener builds a light one over grpc-js Metadata, so the hot
 * path does not pay for a full Headers object.
 */
export interface CallContext {
  readonly requestHeader: { get(name: string): string | null };
  readonly responseHeader: { set(name: string, value: string): void };
  readonly signal: AbortSignal;
  /** "grpc", "grpc-web" or "connect" on the Connect listener; "grpc-native" on the grpc-js listener. */
  readonly protocolName: string;
}
