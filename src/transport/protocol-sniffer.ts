import type { Socket } from "node:net";

/** What every HTTP/2 client sends first (RFC 9113 §3.4); no HTTP/1.1 request can start with it. */
const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export type WireProtocol = "http/1.1" | "h2";

/**
 * Reads the first bytes of a cleartext connection to tell HTTP/2 with prior knowledge from HTTP/1.1,
 * then puts the bytes back and hands the socket on. Node's http2 cleartext server speaks only HTTP/2,
 * which is why one port serving both needs this. The preface may arrive in several chunks, so bytes
 * are collected until they either differ from it or complete it. A connection that sends nothing for
 * `timeoutMs` is dropped.
 */
export function sniffProtocol(
  socket: Socket,
  timeoutMs: number,
  dispatch: (socket: Socket, protocol: WireProtocol) => void,
): void {
  let head: Buffer | undefined;

  const onData = (chunk: Buffer): void => {
    head = head ? Buffer.concat([head, chunk]) : chunk;
    const n = Math.min(head.length, preface.length);
    const looksLikeHttp2 = head.compare(preface, 0, n, 0, n) === 0;
    if (looksLikeHttp2 && n < preface.length) return;
    stopSniffing();
    // Pause before un-reading, so nothing flows until the chosen server has attached its reader.
    socket.pause();
    socket.unshift(head);
    dispatch(socket, looksLikeHttp2 ? "h2" : "http/1.1");
    // The HTTP/1 parser reads through stream events and an explicit pause() is not undone by adding a
    // listener; HTTP/2 reads the un-read bytes synchronously when its session is created and then
    // reads the socket's handle directly, so it needs no resume.
    if (!looksLikeHttp2) socket.resume();
  };
  const onTimeout = (): void => {
    socket.destroy();
  };
  // Until a server owns the socket, a reset would be an unhandled 'error' event.
  const onError = (): void => {
    socket.destroy();
  };
  const stopSniffing = (): void => {
    socket.off("data", onData);
    socket.off("error", onError);
    socket.off("timeout", onTimeout);
    socket.setTimeout(0);
  };

  socket.on("data", onData);
  socket.on("error", onError);
  socket.on("timeout", onTimeout);
  socket.setTimeout(timeoutMs);
}
