import { Metadata, type ServerUnaryCall } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { GrpcCallContext } from "../../src/transport/grpc-call-context.js";

/** The parts of a grpc-js call the context uses, recording the headers it sends. */
function fakeCall(): { call: ServerUnaryCall<unknown, unknown>; sent: Metadata[] } {
  const sent: Metadata[] = [];
  const call = { metadata: new Metadata(), cancelled: false, sendMetadata: (m: Metadata) => void sent.push(m) };
  return { call: call as unknown as ServerUnaryCall<unknown, unknown>, sent };
}

describe("GrpcCallContext response headers", () => {
  it("sends nothing of its own when no header was set (grpc-js sends the defaults)", () => {
    const { call, sent } = fakeCall();
    new GrpcCallContext(call).sendHeaders();
    expect(sent).toEqual([]);
  });

  it("sends each header once, the last value set winning, under a lower-case name", () => {
    const { call, sent } = fakeCall();
    const context = new GrpcCallContext(call);
    context.responseHeader.set("X-Request-ID", "first");
    context.responseHeader.set("x-request-id", "second");
    context.responseHeader.set("x-trace-bin", Buffer.from([1, 2]).toString("base64"));
    context.sendHeaders();
    context.sendHeaders();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.toJSON()).toEqual({ "x-request-id": ["second"], "x-trace-bin": [Buffer.from([1, 2])] });
  });

  it("drops a header grpc-js would refuse, with the value it replaced", () => {
    const { call, sent } = fakeCall();
    const context = new GrpcCallContext(call);
    context.responseHeader.set("x-note", "fine");
    context.responseHeader.set("x-note", "not\nfine");
    context.responseHeader.set("x-request-id", "kept");
    context.sendHeaders();
    expect(sent[0]!.toJSON()).toEqual({ "x-request-id": ["kept"] });
  });
});
