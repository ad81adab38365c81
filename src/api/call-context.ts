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
  /**
   * The client certificate of the connection, when the listeners require client certificates (mTLS):
   * the TLS handshake has verified it against TLS_CLIENT_CA_FILE. Undefined (or absent) otherwise. Both
   * listeners fill it lazily, so a call that never reads it pays nothing.
   */
  readonly peerCertificate?: PeerCertificate | undefined;
}

/** A verified client certificate, as much of it as authorization needs. */
export interface PeerCertificate {
  /** The subject's CN; undefined when it has none, or several. */
  readonly commonName: string | undefined;
  /** The subject, one entry per attribute ("CN", "O", "OU", …). */
  readonly subject: Readonly<Record<string, string>>;
  /** SHA-256 fingerprint, colon-separated hex, as Node prints it. */
  readonly fingerprint256: string;
}
