// gRPC length-prefixed framing, and one raw gRPC call over node:http2 that sends exactly the bytes
// h2load will send, so the bench can check what those bytes are answered with (h2load itself only sees
// HTTP statuses, and a gRPC error is an HTTP 200 with grpc-status ≠ 0 in the trailers).
import { connect, constants, type IncomingHttpHeaders } from "node:http2";

/** 1 flag byte (0: not compressed), 4-byte big-endian length, the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.byteLength);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, 5);
  return frame;
}

/** Splits a response body into its messages; throws on a compressed or truncated frame. */
export function grpcMessages(body: Buffer): Uint8Array[] {
  const messages: Uint8Array[] = [];
  let offset = 0;
  while (offset < body.length) {
    if (body.length - offset < 5) throw new Error(`truncated gRPC frame header at byte ${offset}`);
    const flags = body.readUInt8(offset);
    const length = body.readUInt32BE(offset + 1);
    if (flags !== 0) throw new Error(`unexpected gRPC frame flags ${flags}`);
    if (offset + 5 + length > body.length) throw new Error(`truncated gRPC message at byte ${offset}`);
    messages.push(body.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  return messages;
}

export interface RawGrpcResponse {
  readonly httpStatus: number;
  readonly headers: IncomingHttpHeaders;
  /** Trailers; for a trailers-only answer (errors), grpc-status is in the headers and this is empty. */
  readonly trailers: IncomingHttpHeaders;
  /** grpc-status from the trailers, else the headers; undefined when neither has one. */
  readonly grpcStatus: number | undefined;
  readonly grpcMessage: string;
  /** Bytes of the response body (all DATA frames), as h2load counts "data" traffic. */
  readonly bodyBytes: number;
  readonly messages: readonly Uint8Array[];
}

/**
 * POSTs one pre-framed body with the headers h2load sends ("name: value" lines, as given to h2load -H),
 * over a fresh HTTP/2 connection.
 */
export function rawGrpcCall(
  baseUrl: string,
  path: string,
  body: Buffer,
  headerLines: readonly string[],
  timeoutMs = 5_000,
): Promise<RawGrpcResponse> {
  return new Promise((resolve, reject) => {
    const session = connect(baseUrl);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no answer from ${baseUrl}${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      session.destroy();
      reject(error);
    };
    session.on("error", fail);
    const requestHeaders: Record<string, string> = {
      [constants.HTTP2_HEADER_METHOD]: "POST",
      [constants.HTTP2_HEADER_PATH]: path,
    };
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      requestHeaders[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const stream = session.request(requestHeaders);
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => (headers = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", fail);
    stream.on("end", () => {
      clearTimeout(timer);
      session.close();
      const data = Buffer.concat(chunks);
      const status = trailers["grpc-status"] ?? headers["grpc-status"];
      const message = trailers["grpc-message"] ?? headers["grpc-message"];
      try {
        resolve({
          httpStatus: Number(headers[constants.HTTP2_HEADER_STATUS]),
          headers,
          trailers,
          grpcStatus: status === undefined ? undefined : Number(status),
          grpcMessage: typeof message === "string" ? decodeURIComponent(message) : "",
          bodyBytes: data.length,
          messages: grpcMessages(data),
        });
      } catch (error) {
        reject(error as Error);
      }
    });
    stream.end(body);
  });
}
