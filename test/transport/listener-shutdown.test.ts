import * as http from "node:http";
import * as http2 from "node:http2";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { Health } from "../../gen/health/v1/health_pb.js";
import type { ServiceRegistration } from "../../src/api/service-handlers.js";
import { createConnectListener } from "../../src/transport/connect-listener.js";
import { createGrpcListener } from "../../src/transport/grpc-listener.js";
import type { Listener } from "../../src/transport/listener.js";
import { createHealthState } from "../../src/transport/health-state.js";
import { deferred, gate, rawGrpcCall, recordingLogger, testRegistrations } from "./fixtures.js";

const listeners: Record<string, (registrations: ServiceRegistration[]) => Listener> = {
  "Connect listener": (registrations) =>
    createConnectListener({
      registrations,
      health: createHealthState(),
      logger: recordingLogger(),
      host: "127.0.0.1",
      port: 0,
      corsAllowedOrigins: [],
    }),
  "grpc-js listener": (registrations) =>
    createGrpcListener({ registrations, health: createHealthState(), logger: recordingLogger(), host: "127.0.0.1", port: 0 }),
};

/** Whatever is still open when a test ends (after a failure) is cut, so the next test starts clean. */
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function started(name: string, slow = { current: gate() }): Promise<{ listener: Listener; baseUrl: string }> {
  const listener = (listeners[name] as (typeof listeners)[string])(testRegistrations(slow));
  const { port } = await listener.start();
  cleanups.push(() => listener.stop(0));
  return { listener, baseUrl: `http://127.0.0.1:${port}` };
}

/** Settles in the order things happened, so a test can check what finished first. */
function recordOrder(order: string[], name: string, promise: Promise<unknown>): Promise<unknown> {
  return promise.finally(() => order.push(name));
}

for (const name of Object.keys(listeners)) {
  describe(`${name} stop()`, () => {
    it("lets an in-flight call finish before it resolves", async () => {
      const slow = { current: gate() };
      const { listener, baseUrl } = await started(name, slow);
      const session = http2.connect(baseUrl);
      cleanups.push(() => session.destroy());
      const goaway = new Promise((resolve) => session.once("goaway", resolve));
      const order: string[] = [];
      const call = recordOrder(order, "call", rawGrpcCall(session, "/residency.v1.ResidencyService/PresignObjectUrl"));
      await slow.current.entered.promise;
      const stopping = recordOrder(order, "stopped", listener.stop(10_000));
      await goaway; // the server is draining, and the call is still running
      slow.current.release.resolve();
      await expect(call).resolves.toMatchObject({ grpcStatus: "0" });
      expect((await call as { bytes: number }).bytes).toBeGreaterThan(5);
      await stopping;
      expect(order).toEqual(["call", "stopped"]);
    });

    it("does not wait for an idle HTTP/2 client connection", async () => {
      const { listener, baseUrl } = await started(name);
      const session = http2.connect(baseUrl);
      cleanups.push(() => session.destroy());
      const closed = new Promise((resolve) => session.once("close", resolve));
      await new Promise((resolve) => session.once("remoteSettings", resolve));
      const begin = performance.now();
      await listener.stop(60_000);
      expect(performance.now() - begin).toBeLessThan(5_000);
      await closed; // the server sent GOAWAY and the session ended
    });

    it("cuts a stream that outlives the grace period", async () => {
      const { listener, baseUrl } = await started(name);
      const client = createClient(Health, createGrpcTransport({ baseUrl }));
      const first = deferred();
      const watching = (async () => {
        for await (const _ of client.watch({ service: "" })) first.resolve();
      })().catch(() => undefined); // ending early or with an error are both fine: it must end
      await first.promise;
      await listener.stop(100);
      await watching;
    });
  });
}

describe("Connect listener stop() over HTTP/1.1", () => {
  it("lets an in-flight call finish and closes the keep-alive socket", async () => {
    const slow = { current: gate() };
    const { listener, baseUrl } = await started("Connect listener", slow);
    const agent = new http.Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${baseUrl}/residency.v1.ResidencyService/PresignObjectUrl`, {
        method: "POST",
        agent,
        headers: { "content-type": "application/json" },
      });
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end("{}");
    });
    await slow.current.entered.promise;
    const stopping = listener.stop(10_000);
    // Once a new connection is refused the listener is draining, and the call is still running.
    await expect(fetch(`${baseUrl}/health`)).rejects.toThrow();
    slow.current.release.resolve();
    expect(await response).toMatchObject({ status: 200, body: expect.stringContaining("example.test") });
    await stopping;
  });

  it("does not wait for an idle keep-alive socket", async () => {
    const { listener, baseUrl } = await started("Connect listener");
    const agent = new http.Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    await new Promise((resolve, reject) => {
      http.get(`${baseUrl}/nothing`, { agent }, (res) => res.resume().on("end", resolve)).on("error", reject);
    });
    const begin = performance.now();
    await listener.stop(60_000);
    expect(performance.now() - begin).toBeLessThan(5_000);
  });
});
