import { describe, expect, it } from "vitest";
import type { CallContext } from "../../src/api/call-context.js";
import { callSlot } from "../../src/api/call-slot.js";

const context = (): CallContext => ({
  requestHeader: { get: () => null },
  responseHeader: { set() {} },
  signal: new AbortController().signal,
  protocolName: "test",
});

describe("call slots", () => {
  it("keep one value per call and slot", () => {
    const requestId = callSlot<string>("request id");
    const caller = callSlot<string>("caller");
    const [a, b] = [context(), context()];
    expect(requestId.get(a)).toBeUndefined();
    requestId.set(a, "req-a");
    requestId.set(b, "req-b");
    caller.set(a, "svc");
    expect([requestId.get(a), requestId.get(b), caller.get(a), caller.get(b)]).toEqual(["req-a", "req-b", "svc", undefined]);
    requestId.set(a, "req-a2");
    expect(requestId.get(a)).toBe("req-a2");
  });

  it("are not seen as the context's own data", () => {
    const a = context();
    callSlot<string>("request id").set(a, "req-a");
    expect(Object.keys(a)).toEqual(["requestHeader", "responseHeader", "signal", "protocolName"]);
    expect(JSON.stringify(a)).not.toContain("req-a");
  });
});
