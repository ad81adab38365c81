import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadRegionCatalog, RegionCatalogError } from "../../src/catalog/load-region-catalog.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "catalog-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const region = {
  id: "eu-north",
  display_name: "EU North (Stockholm)",
  country: "SE",
  legal_area: "EEA",
  storage_bucket: "b",
  storage_endpoint: "http://minio:9000",
  search_endpoint: "https://search.example",
  inference_providers: [{ id: "aws-bedrock", endpoint: "https://bedrock.example", zero_data_retention: true, no_training: true }],
};

describe("loadRegionCatalog", () => {
  it("reads a YAML catalog", async () => {
    const file = join(dir, "regions.yaml");
    await writeFile(
      file,
      `regions:\n  - id: eu-north\n    display_name: EU North\n    country: SE\n    legal_area: EEA\n    storage_bucket: b\n    storage_endpoint: http://minio:9000\n    search_endpoint: https://s.example\n`,
    );
    const [only] = await loadRegionCatalog(file);
    expect(only).toMatchObject({ id: "eu-north", legalArea: "EEA", status: "HEALTHY", inferenceProviders: [] });
  });

  it("reads a JSON catalog with camelCase keys too", async () => {
    const file = join(dir, "regions.json");
    await writeFile(file, JSON.stringify({ regions: [{ ...region, displayName: "X", display_name: undefined }] }));
    const [only] = await loadRegionCatalog(file);
    expect(only?.displayName).toBe("X");
    expect(only?.inferenceProviders[0]?.zeroDataRetention).toBe(true);
  });

  it("lists every problem with its path", async () => {
    const file = join(dir, "regions.json");
    await writeFile(file, JSON.stringify({ regions: [{ ...region, country: "Sweden", storage_endpoint: "ftp://x" }, region] }));
    const err = await loadRegionCatalog(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegionCatalogError);
    const problems = (err as RegionCatalogError).problems.join("\n");
    expect(problems).toContain("regions[0].country");
    expect(problems).toContain("regions[0].storage_endpoint");
    expect(problems).toContain("regions[1].id");
  });

  it("names the file when it is missing or not parseable", async () => {
    await expect(loadRegionCatalog(join(dir, "none.yaml"))).rejects.toThrow(/none\.yaml.*cannot be read/s);
    const file = join(dir, "broken.json");
    await writeFile(file, "{");
    await expect(loadRegionCatalog(file)).rejects.toThrow(/not valid JSON/);
  });
});
