import type { InferenceProvider, Region } from "./region.js";

// The default region catalog of docs/compliance-rules.md ("Region facts" and "Inference providers").
// Everything is frozen: the catalog is shared by every snapshot, and a status change builds a new Region.

/** Region id → the AWS region that hosts it (S3, OpenSearch and Bedrock endpoints; presigning). */
export const AWS_REGION_OF: Readonly<Record<string, string>> = Object.freeze({
  "us-east": "us-east-1",
  "us-west": "us-west-2",
  "eu-west": "eu-west-1",
  "eu-central": "eu-central-1",
  "apac-south": "ap-south-1",
  "apac-east": "ap-northeast-1",
  "ca-central": "ca-central-1",
});

/**
 * Region id → OpenAI data-residency API root. OpenAI serves residency projects from a per-area
 * subdomain (us., eu., in., jp., ca.), so processing stays in the area of the region.
 */
const OPENAI_ENDPOINT_OF: Readonly<Record<string, string>> = Object.freeze({
  "us-east": "https://us.api.openai.com/v1",
  "us-west": "https://us.api.openai.com/v1",
  "eu-west": "https://eu.api.openai.com/v1",
  "apac-south": "https://in.api.openai.com/v1",
  "apac-east": "https://jp.api.openai.com/v1",
  "ca-central": "https://ca.api.openai.com/v1",
});

/** Anthropic's direct API processes in the US only, so it is listed in the US regions alone. */
const ANTHROPIC_REGIONS: ReadonlySet<string> = new Set(["us-east", "us-west"]);

interface RegionFacts {
  readonly id: string;
  readonly displayName: string;
  readonly country: string;
  readonly legalArea: string;
  readonly gdprAdequacy: boolean;
}

function providersOf(id: string, awsRegion: string): readonly InferenceProvider[] {
  const providers: InferenceProvider[] = [
    {
      id: "aws-bedrock",
      endpoint: `https://bedrock-runtime.${awsRegion}.amazonaws.com`,
      zeroDataRetention: true,
      noTraining: true,
      globalRouting: false,
    },
  ];
  const openai = OPENAI_ENDPOINT_OF[id];
  if (openai !== undefined) {
    providers.push({
      id: "openai",
      endpoint: openai,
      zeroDataRetention: true,
      noTraining: true,
      globalRouting: false,
    });
  }
  if (ANTHROPIC_REGIONS.has(id)) {
    providers.push({
      id: "anthropic",
      endpoint: "https://api.anthropic.com",
      zeroDataRetention: false,
      noTraining: true,
      globalRouting: false,
    });
  }
  return Object.freeze(providers.map((p) => Object.freeze(p)));
}

function catalogRegion(facts: RegionFacts): Region {
  const awsRegion = AWS_REGION_OF[facts.id];
  if (awsRegion === undefined) throw new Error(`no AWS region for catalog region "${facts.id}"`);
  return Object.freeze({
    ...facts,
    status: "HEALTHY",
    statusReason: "",
    statusUpdatedAt: undefined,
    storageBucket: `residency-${facts.id}`,
    storageEndpoint: `https://s3.${awsRegion}.amazonaws.com`,
    searchEndpoint: `https://search-residency-${facts.id}.${awsRegion}.es.amazonaws.com`,
    inferenceProviders: providersOf(facts.id, awsRegion),
  });
}

/** The seven regions, in catalog order (the order of alternatives and failover candidates). */
export const DEFAULT_REGIONS: readonly Region[] = Object.freeze(
  [
    { id: "us-east", displayName: "US East (Virginia)", country: "US", legalArea: "US", gdprAdequacy: false },
    { id: "us-west", displayName: "US West (Oregon)", country: "US", legalArea: "US", gdprAdequacy: false },
    { id: "eu-west", displayName: "EU West (Ireland)", country: "IE", legalArea: "EEA", gdprAdequacy: false },
    { id: "eu-central", displayName: "EU Central (Frankfurt)", country: "DE", legalArea: "EEA", gdprAdequacy: false },
    { id: "apac-south", displayName: "Asia Pacific South (Mumbai)", country: "IN", legalArea: "IN", gdprAdequacy: false },
    { id: "apac-east", displayName: "Asia Pacific East (Tokyo)", country: "JP", legalArea: "JP", gdprAdequacy: true },
    { id: "ca-central", displayName: "Canada Central (Montréal)", country: "CA", legalArea: "CA", gdprAdequacy: true },
  ].map(catalogRegion),
);
