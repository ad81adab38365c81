const REMOVED: unique symbol = Symbol("removed");

/**
 * An immutable map for snapshots that change a few keys at a time: a large base shared by every version and a
 * small overlay of the keys changed since the base was last compacted. A lookup is at most two Map lookups; a new
 * version copies only the overlay, and folds it into a fresh base once it outgrows about sqrt(2·n) keys, so a
 * change costs O(sqrt n) amortised instead of O(n). Never mutated after construction.
 */
export interface LayeredMap<K, V> {
  get(key: K): V | undefined;
  readonly size: number;
  /** A new map with these keys set (a value) or removed (undefined); this one is left unchanged. */
  with(changes: Iterable<readonly [K, V | undefined]>): LayeredMap<K, V>;
  keys(): IterableIterator<K>;
}

export function layeredMap<K, V>(base: Map<K, V>): LayeredMap<K, V> {
  return layer(base, new Map(), base.size);
}

function layer<K, V>(base: Map<K, V>, overlay: Map<K, V | typeof REMOVED>, size: number): LayeredMap<K, V> {
  const get =
    overlay.size === 0
      ? (key: K) => base.get(key)
      : (key: K) => {
          const over = overlay.get(key);
          if (over === undefined) return base.get(key);
          return over === REMOVED ? undefined : over;
        };
  return {
    get,
    size,
    with(changes) {
      const next = new Map(overlay);
      let nextSize = size;
      for (const [key, value] of changes) {
        const present = get(key) !== undefined;
        if (value === undefined) {
          if (!present) continue;
          // A key only the overlay holds can simply leave it; one in the base needs a tombstone.
          if (base.has(key)) next.set(key, REMOVED);
          else next.delete(key);
          nextSize--;
        } else {
          next.set(key, value);
          if (!present) nextSize++;
        }
      }
      if (next.size * next.size <= 2 * Math.max(base.size, 1024)) return layer(base, next, nextSize);
      const compacted = new Map(base);
      for (const [key, value] of next) {
        if (value === REMOVED) compacted.delete(key);
        else compacted.set(key, value);
      }
      return layer(compacted, new Map(), compacted.size);
    },
    *keys() {
      for (const key of base.keys()) if (!overlay.has(key)) yield key;
      for (const [key, value] of overlay) if (value !== REMOVED) yield key;
    },
  };
}
