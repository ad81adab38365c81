import { describe, expect, it } from "vitest";
import { randomUuid } from "../../src/api/random-uuid.js";

describe("randomUuid", () => {
  it("makes distinct version 4 UUIDs in crypto.randomUUID's format, across refills of its randomness", () => {
    const ids = Array.from({ length: 1_000 }, () => randomUuid());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("uses every hex digit in every random position", () => {
    const seen = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 2_000; i++) [...randomUuid()].forEach((c, pos) => seen[pos]!.add(c));
    const fixed = new Map([[8, 1], [13, 1], [14, 1], [18, 1], [19, 4], [23, 1]]);
    seen.forEach((chars, pos) => expect(chars.size, `position ${pos}`).toBe(fixed.get(pos) ?? 16));
  });
});
