import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import type { InferenceProvider, Region } from "../domain/region.js";
import { REGION_STATUSES, type RegionStatus } from "../domain/vocabulary.js";

export class RegionCatalogError extends Error {
  override readonly name = "RegionCatalogError";
  constructor(file: string, readonly problems: readonly string[]) {
    super(`REGIONS_FILE ${file} is invalid:\n  - ${problems.join("\n  - ")}`);
  }
}

type Raw = Record<string, unknown>;
const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Reads a region catalog from a JSON or YAML file: `{ regions: [{ id, display_name, country, legal_area,
 * gdpr_adequacy, storage_bucket, storage_endpoint, search_endpoint, inference_providers: [{ id, endpoint,
 * zero_data_retention, no_training, global_routing }] }] }`. Keys may be snake_case or camelCase. Every
 * problem is reported at once, with its path.
 */
export async function loadRegionCatalog(file: string): Promise<Region[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new RegionCatalogError(file, [`cannot be read: ${(err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = extname(file).toLowerCase() === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new RegionCatalogError(file, [`is not valid ${extname(file) === ".json" ? "JSON" : "YAML"}: ${(err as Error).message}`]);
  }
  const problems: string[] = [];
  const regions = parseCatalog(doc, problems);
  if (problems.length > 0) throw new RegionCatalogError(file, problems);
  return regions;
}

export function parseCatalog(doc: unknown, problems: string[]): Region[] {
  const list = isObject(doc) ? doc.regions : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    problems.push("regions: must be a non-empty list");
    return [];
  }
  const seen = new Set<string>();
  return list.map((raw, i) => {
    const region = parseRegion(raw, `regions[${i}]`, problems);
    if (seen.has(region.id)) problems.push(`regions[${i}].id: "${region.id}" appears twice`);
    seen.add(region.id);
    return region;
  });
}

function parseRegion(raw: unknown, path: string, problems: string[]): Region {
  const r: Raw = isObject(raw) ? raw : (problems.push(`${path}: must be an object`), {});
  const read = field(r, path, problems);
  const id = read.string("id", { pattern: ID, hint: "lower-case letters, digits and dashes" });
  const status = read.optionalString("status") ?? "HEALTHY";
  if (!(REGION_STATUSES as readonly string[]).includes(status)) {
    problems.push(`${path}.status: must be one of ${REGION_STATUSES.join(", ")}`);
  }
  const providersRaw = read.value("inference_providers") ?? [];
  if (!Array.isArray(providersRaw)) problems.push(`${path}.inference_providers: must be a list`);
  return {
    id,
    displayName: read.string("display_name"),
    country: read.string("country", { pattern: /^[A-Z]{2}$/, hint: "ISO 3166-1 alpha-2, e.g. IE" }),
    legalArea: read.string("legal_area"),
    gdprAdequacy: read.bool("gdpr_adequacy"),
    status: status as RegionStatus,
    statusReason: "",
    statusUpdatedAt: undefined,
    storageBucket: read.string("storage_bucket"),
    storageEndpoint: read.string("storage_endpoint", { url: true }),
    searchEndpoint: read.string("search_endpoint", { url: true }),
    inferenceProviders: Array.isArray(providersRaw)
      ? providersRaw.map((p, j) => parseProvider(p, `${path}.inference_providers[${j}]`, problems))
      : [],
  };
}

function parseProvider(raw: unknown, path: string, problems: string[]): InferenceProvider {
  const r: Raw = isObject(raw) ? raw : (problems.push(`${path}: must be an object`), {});
  const read = field(r, path, problems);
  return {
    id: read.string("id", { pattern: ID, hint: "lower-case letters, digits and dashes" }),
    endpoint: read.string("endpoint", { url: true }),
    zeroDataRetention: read.bool("zero_data_retention"),
    noTraining: read.bool("no_training"),
    globalRouting: read.bool("global_routing"),
  };
}

function field(r: Raw, path: string, problems: string[]) {
  const value = (snake: string): unknown =>
    r[snake] ?? r[snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())];
  return {
    value,
    optionalString(name: string): string | undefined {
      const v = value(name);
      if (v === undefined) return undefined;
      if (typeof v !== "string") problems.push(`${path}.${name}: must be a string`);
      return typeof v === "string" ? v : undefined;
    },
    string(name: string, rule: { pattern?: RegExp; hint?: string; url?: boolean } = {}): string {
      const v = value(name);
      if (typeof v !== "string" || v.trim() === "") {
        problems.push(`${path}.${name}: required, a non-empty string`);
        return "";
      }
      if (rule.pattern && !rule.pattern.test(v)) problems.push(`${path}.${name}: "${v}" is not valid (${rule.hint})`);
      if (rule.url && !/^https?:\/\/[^\s]+$/.test(v)) problems.push(`${path}.${name}: "${v}" must be an http(s) URL`);
      return v;
    },
    bool(name: string): boolean {
      const v = value(name);
      if (v === undefined) return false;
      if (typeof v !== "boolean") problems.push(`${path}.${name}: must be true or false`);
      return v === true;
    },
  };
}

function isObject(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
