import { expect, it } from "vitest";
import { layeredMap, type LayeredMap } from "../../src/snapshot/layered-map.js";

it("behaves like a Map through many versions, compactions included, and never changes an older version", () => {
  let seed = 1;
  const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const reference = new Map<number, string>();
  for (let i = 0; i < 3000; i++) reference.set(i, `v${i}`);
  let map: LayeredMap<number, string> = layeredMap(new Map(reference));
  const history: [LayeredMap<number, string>, Map<number, string>][] = [];
  for (let step = 0; step < 400; step++) {
    const changes: [number, string | undefined][] = [];
    for (let c = 0; c < 5; c++) {
      const key = Math.floor(next() * 3500);
      const value = next() < 0.3 ? undefined : `s${step}.${c}`;
      changes.push([key, value]);
      if (value === undefined) reference.delete(key);
      else reference.set(key, value);
    }
    map = map.with(changes);
    if (step % 50 === 0) history.push([map, new Map(reference)]);
    expect(map.size).toBe(reference.size);
  }
  for (const [version, expected] of [...history, [map, reference] as const]) {
    expect(new Set(version.keys())).toEqual(new Set(expected.keys()));
    for (let key = 0; key < 3500; key++) expect(version.get(key)).toBe(expected.get(key));
  }
});
