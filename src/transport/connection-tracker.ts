import type { Http2Session } from "node:http2";
import type { Socket } from "node:net";
import type { HttpRequest, HttpResponse } from "./http-exchange.js";
import type { WireProtocol } from "./protocol-sniffer.js";

/**
 * Knows every connection of the Connect listener, so that stop() can close the idle ones at once,
 * let busy ones finish, and cut whatever is left when the grace period ends. Neither Node server can do
 * this for us: the sockets reach them through `emit("connection")`, not through their own listen().
 */
export interface ConnectionTracker {
  /** An accepted socket; forgotten when it closes. */
  accepted(socket: Socket): void;
  /** The socket was handed to the server of this protocol. */
  dispatched(socket: Socket, protocol: WireProtocol): void;
  /** An HTTP/2 session of the HTTP/2 server. */
  session(session: Http2Session): void;
  /** Counts an HTTP/1.1 request in flight on its socket until its response is done. */
  http1Request(req: HttpRequest, res: HttpResponse): void;
  /** Graceful part of stop(): GOAWAY to HTTP/2 sessions, close idle HTTP/1.1 and unsniffed sockets. */
  drain(): void;
  /** Hard part of stop(): destroy everything still open. */
  destroyAll(): void;
  /** Resolves once every tracked socket has closed. */
  closed(): Promise<void>;
}

export function createConnectionTracker(): ConnectionTracker {
  /** Every open socket, with the protocol it speaks once known. */
  const sockets = new Map<Socket, WireProtocol | "sniffing">();
  const inFlight = new Map<Socket, number>();
  const sessions = new Set<Http2Session>();
  let draining = false;
  let onAllClosed: (() => void) | undefined;

  const closeIfIdle = (socket: Socket): void => {
    if (!inFlight.has(socket)) socket.end();
  };

  return {
    accepted(socket) {
      sockets.set(socket, "sniffing");
      socket.once("close", () => {
        sockets.delete(socket);
        inFlight.delete(socket);
        if (sockets.size === 0) onAllClosed?.();
      });
    },
    dispatched(socket, protocol) {
      if (sockets.has(socket)) sockets.set(socket, protocol);
    },
    session(session) {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
      if (draining) session.close();
    },
    http1Request(req, res) {
      const socket = req.socket;
      inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
      // A keep-alive request that slipped in during drain: tell the client not to reuse the socket.
      if (draining) res.setHeader("Connection", "close");
      res.once("close", () => {
        const left = (inFlight.get(socket) ?? 1) - 1;
        if (left > 0) inFlight.set(socket, left);
        else inFlight.delete(socket);
        if (draining) closeIfIdle(socket);
      });
    },
    drain() {
      draining = true;
      // close() sends GOAWAY and ends the session once its open streams are done.
      for (const session of sessions) session.close();
      for (const [socket, protocol] of sockets) {
        if (protocol === "http/1.1") closeIfIdle(socket);
        // Still sniffing: no request has even started.
        else if (protocol === "sniffing") socket.destroy();
      }
    },
    destroyAll() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets.keys()) socket.destroy();
    },
    closed() {
      if (sockets.size === 0) return Promise.resolve();
      return new Promise((resolve) => {
        onAllClosed = resolve;
      });
    },
  };
}
