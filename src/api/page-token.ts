import { InvalidArgumentError } from "../domain/errors.js";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** Checks page_size: 0 means the default; negative or over the maximum is INVALID_ARGUMENT, never clamped. */
export function pageSizeOf(pageSize: number): number {
  if (pageSize === 0) return DEFAULT_PAGE_SIZE;
  if (pageSize < 0 || pageSize > MAX_PAGE_SIZE) {
    throw new InvalidArgumentError([
      { field: "page_size", rule: "range", message: `page_size must be from 1 to ${MAX_PAGE_SIZE} (0 for ${DEFAULT_PAGE_SIZE}); got ${pageSize}` },
    ]);
  }
  return pageSize;
}

/**
 * Opaque keyset cursors. The token carries the filter it was made for, so that a token replayed with a
 * different filter is refused rather than silently returning the wrong page.
 */
export function encodePageToken(filter: string, position: readonly string[]): string {
  return Buffer.from(JSON.stringify({ f: filter, p: position })).toString("base64url");
}

export function decodePageToken(token: string, filter: string): string[] | undefined {
  if (token === "") return undefined;
  const bad = (why: string) =>
    new InvalidArgumentError([{ field: "page_token", rule: "page_token", message: `page_token ${why}; pass the next_page_token of the previous page unchanged` }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw bad("is not a token this service issued");
  }
  const { f, p } = (parsed ?? {}) as { f?: unknown; p?: unknown };
  if (typeof f !== "string" || !Array.isArray(p) || !p.every((x) => typeof x === "string")) {
    throw bad("is not a token this service issued");
  }
  if (f !== filter) throw bad("was issued for a different filter");
  return p as string[];
}
