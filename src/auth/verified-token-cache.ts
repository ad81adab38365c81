import type { Principal } from "./principal.js";

export interface VerifiedTokenCacheOptions {
  /** Tokens kept at most; the oldest entry goes first when full. @default 10000 */
  readonly maxEntries?: number;
  /**
   * How long a verified token is trusted without checking its signature again (its own expiry still
   * applies on every use), so that a key removed from a JWKS stops working within this time.
   * @default 300000 (5 minutes)
   */
  readonly maxAgeMs?: number;
  /** Epoch milliseconds. */
  readonly clock: () => number;
}

/** What a cache lookup found: the principal, a token that has expired since it was verified, or nothing. */
export type CachedToken = { readonly principal: Principal } | "expired" | undefined;

export interface VerifiedTokenCache {
  get(token: string): CachedToken;
  set(token: string, principal: Principal, validUntil: number): void;
  readonly size: number;
}

interface Entry {
  readonly principal: Principal;
  /** The token's exp (clock tolerance included), epoch ms. */
  readonly validUntil: number;
  /** When the entry must be verified again, epoch ms. */
  readonly recheckAt: number;
}

/**
 * Verified tokens by their exact text, so that a sidecar reusing its token pays a Map lookup rather than a
 * signature check. Bounded: insertion order is the eviction order. `exp` is re-checked on every use.
 */
export function createVerifiedTokenCache(options: VerifiedTokenCacheOptions): VerifiedTokenCache {
  const maxEntries = options.maxEntries ?? 10_000;
  const maxAgeMs = options.maxAgeMs ?? 300_000;
  const { clock } = options;
  const entries = new Map<string, Entry>();
  return {
    get(token) {
      const entry = entries.get(token);
      if (entry === undefined) return undefined;
      const now = clock();
      if (now >= entry.validUntil) {
        entries.delete(token);
        return "expired";
      }
      if (now >= entry.recheckAt) {
        entries.delete(token);
        return undefined;
      }
      return entry;
    },
    set(token, principal, validUntil) {
      if (maxEntries <= 0) return;
      entries.delete(token);
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
      entries.set(token, { principal, validUntil, recheckAt: clock() + maxAgeMs });
    },
    get size() {
      return entries.size;
    },
  };
}
