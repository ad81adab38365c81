import { describe, it, expect } from "vitest";
import { AWS_REGION_OF, DEFAULT_REGIONS } from "../../src/domain/default-region-catalog.js";

// The "Region facts" and "Inference providers" tables of docs/compliance-rules.md.
const FACTS = [
  { id: "us-east", displayName: "US East (Virginia)", country: "US", legalArea: "US", gdprAdequacy: false, aws: "us-east-1" },
  { id: "us-west", displayName: "US West (Oregon)", country: "US", legalArea: "US", gdprAdequacy: false, aws: "us-west-2" },
  { id: "eu-west", displayName: "EU West (Ireland)", country: "IE", legalArea: "EEA", gdprAdequacy: false, aws: "eu-west-1" },
  { id: "eu-central", displayName: "EU Central (Frankfurt)", country: "DE", legalArea: "EEA", gdprAdequacy: false, aws: "eu-central-1" },
  { id: "apac-south", displayName: "Asia Pacific South (Mumbai)", country: "IN", legalArea: "IN", gdprAdequacy: false, aws: "ap-south-1" },
  { id: "apac-east", displayName: "Asia Pacific East (Tokyo)", country: "JP", legalArea: "JP", gdprAdequacy: true, aws: "ap-northeast-1" },
  { id: "ca-central", displayName: "Canada Central (Montréal)", country: "CA", legalArea: "CA", gdprAdequacy: true, aws: "ca-central-1" },
] as const;

const PROVIDERS_OF: Record<string, string[]> = {
  "us-east": ["aws-bedrock", "openai", "anthropic"],
  "us-west": ["aws-bedrock", "openai", "anthropic"],
  "eu-west": ["aws-bedrock", "openai"],
  "eu-central": ["aws-bedrock"],
  "apac-south": ["aws-bedrock", "openai"],
  "apac-east": ["aws-bedrock", "openai"],
  "ca-central": ["aws-bedrock", "openai"],
};

describe("DEFAULT_REGIONS", () => {
  it("holds the seven regions in catalog order", () => {
    expect(DEFAULT_REGIONS.map((r) => r.id)).toEqual(FACTS.map((f) => f.id));
  });

  it.each(FACTS)("$id: location, country, legal area, adequacy, status", (f) => {
    const region = DEFAULT_REGIONS.find((r) => r.id === f.id)!;
    expect(region).toMatchObject({
      displayName: f.displayName,
      country: f.country,
      legalArea: f.legalArea,
      gdprAdequacy: f.gdprAdequacy,
      status: "HEALTHY",
      statusReason: "",
      statusUpdatedAt: undefined,
    });
  });

  it.each(FACTS)("$id: bucket and in-region AWS endpoints", (f) => {
    const region = DEFAULT_REGIONS.find((r) => r.id === f.id)!;
    expect(AWS_REGION_OF[f.id]).toBe(f.aws);
    expect(region.storageBucket).toBe(`residency-${f.id}`);
    expect(region.storageEndpoint).toBe(`https://s3.${f.aws}.amazonaws.com`);
    expect(region.searchEndpoint).toBe(`https://search-residency-${f.id}.${f.aws}.es.amazonaws.com`);
  });

  it.each(FACTS)("$id: providers per the provider table", (f) => {
    const region = DEFAULT_REGIONS.find((r) => r.id === f.id)!;
    expect(region.inferenceProviders.map((p) => p.id)).toEqual(PROVIDERS_OF[f.id]);
    for (const p of region.inferenceProviders) {
      expect(p.globalRouting).toBe(false);
      expect(p.noTraining).toBe(true);
      expect(p.zeroDataRetention).toBe(p.id !== "anthropic");
      expect(p.endpoint).toMatch(/^https:\/\//);
    }
    const bedrock = region.inferenceProviders.find((p) => p.id === "aws-bedrock")!;
    expect(bedrock.endpoint).toBe(`https://bedrock-runtime.${f.aws}.amazonaws.com`);
  });

  it("uses regional OpenAI residency endpoints and Anthropic's direct API", () => {
    const endpoint = (region: string, provider: string) =>
      DEFAULT_REGIONS.find((r) => r.id === region)!.inferenceProviders.find((p) => p.id === provider)!.endpoint;
    expect(endpoint("us-east", "openai")).toBe("https://us.api.openai.com/v1");
    expect(endpoint("us-west", "openai")).toBe("https://us.api.openai.com/v1");
    expect(endpoint("eu-west", "openai")).toBe("https://eu.api.openai.com/v1");
    expect(endpoint("apac-south", "openai")).toBe("https://in.api.openai.com/v1");
    expect(endpoint("apac-east", "openai")).toBe("https://jp.api.openai.com/v1");
    expect(endpoint("ca-central", "openai")).toBe("https://ca.api.openai.com/v1");
    expect(endpoint("us-east", "anthropic")).toBe("https://api.anthropic.com");
  });

  it("is frozen", () => {
    expect(Object.isFrozen(DEFAULT_REGIONS)).toBe(true);
    for (const region of DEFAULT_REGIONS) {
      expect(Object.isFrozen(region)).toBe(true);
      expect(Object.isFrozen(region.inferenceProviders)).toBe(true);
    }
    expect(Object.isFrozen(AWS_REGION_OF)).toBe(true);
  });
});
