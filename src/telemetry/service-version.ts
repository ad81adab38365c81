import { readFileSync } from "node:fs";

/** The `version` of the project's package.json (read once, at start), or "unknown". */
export function readServiceVersion(): string {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}
