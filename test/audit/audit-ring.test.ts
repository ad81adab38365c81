import { describe, expect, it } from "vitest";
import { auditRingReader, auditRingWriter, createAuditRingBuffer, ringBytesFor } from "../../src/audit/audit-ring.js";

describe("audit ring (decision thread → writer thread)", () => {
  it("passes lines through in order, across the end of the ring, multi-byte text included", () => {
    const shared = createAuditRingBuffer(256);
    const writer = auditRingWriter(shared);
    const reader = auditRingReader(shared);
    const lines = Array.from({ length: 200 }, (_, i) => `[${i},"ünïcödé 𝄞 ✓","${"x".repeat(i % 37)}"]`);
    const got: string[] = [];
    let next = 0;
    // Many laps around a 256-byte ring: write what fits, read, release, repeat.
    while (got.length < lines.length) {
      while (next < lines.length && writer.write(lines[next]!)) next++;
      const read = reader.read();
      got.push(...read);
      reader.durable(read.length);
    }
    expect(got).toEqual(lines);
    expect(writer.depth).toBe(0);
  });

  it("refuses a line that does not fit beside the records not yet durable, and takes it once they are", () => {
    const shared = createAuditRingBuffer(64);
    const writer = auditRingWriter(shared);
    const reader = auditRingReader(shared);
    expect(writer.write("a".repeat(20))).toBe(true); // 4 + 20 bytes
    expect(writer.write("b".repeat(20))).toBe(true); // 48 of 64 used
    expect(writer.write("c".repeat(20))).toBe(false);
    expect(writer.depth).toBe(2);
    expect(reader.read()).toEqual(["a".repeat(20), "b".repeat(20)]);
    expect(writer.write("c".repeat(20))).toBe(false); // read is not durable
    reader.durable(1);
    expect(writer.depth).toBe(1);
    expect(writer.write("c".repeat(20))).toBe(true);
    expect(writer.write("d".repeat(100))).toBe(false); // larger than the ring: never fits
  });

  it("lets a new reader (a restarted writer thread) read again everything not yet durable", () => {
    const shared = createAuditRingBuffer(1024);
    const writer = auditRingWriter(shared);
    const first = auditRingReader(shared);
    for (const line of ["one", "two", "three", "four"]) writer.write(line);
    expect(first.read()).toHaveLength(4);
    first.durable(2);
    const second = auditRingReader(shared);
    expect(second.read()).toEqual(["three", "four"]);
    second.durable(2);
    expect(writer.depth).toBe(0);
  });

  it("prefaults pages ahead of the writer without changing a byte, before and after records are written", () => {
    const shared = createAuditRingBuffer(64 * 1024);
    const writer = auditRingWriter(shared);
    const reader = auditRingReader(shared);
    const lines = Array.from({ length: 40 }, (_, i) => `{"n":${i},"text":"${"é".repeat(i)}"}`);
    for (const line of lines.slice(0, 20)) expect(writer.write(line)).toBe(true);
    const before = Buffer.from(new Uint8Array(shared)).toString("hex");
    reader.prefault(16 * 1024);
    reader.prefault(1024 * 1024); // past the end of the ring: clamped
    expect(Buffer.from(new Uint8Array(shared)).toString("hex")).toBe(before);
    for (const line of lines.slice(20)) expect(writer.write(line)).toBe(true);
    expect(reader.read()).toEqual(lines);
  });

  it("sizes the ring at about 256 bytes per queued record, a power of two between 1 MiB and 1 GiB", () => {
    expect(ringBytesFor(1)).toBe(1 << 20);
    expect(ringBytesFor(100_000)).toBe(1 << 25);
    expect(ringBytesFor(10_000_000)).toBe(1 << 30);
    expect(() => createAuditRingBuffer(1000)).toThrow(/power of two/);
  });
});
