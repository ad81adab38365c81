// A realistic, deterministic policy population and request mix for the in-process bench: tenants of five
// archetypes (US K-12 under FERPA, US West FERPA+CCPA, EU under GDPR, Canada under PIPEDA, APAC without
// a framework), each with a tenant policy and a few learner policies (an UNDER_13 learner, one that
// narrows where its data may go, one pinned elsewhere within its allowed regions), and requests that
// mix operations, learners with and without their own policy, allowed and denied regions.
import type { DecisionRequest } from "../src/domain/decision.js";
import { DEFAULT_REGIONS } from "../src/domain/default-region-catalog.js";
import type { PolicyFields, StoredPolicy } from "../src/domain/policy.js";
import { validatePolicy } from "../src/domain/policy-validation.js";
import type { DataClassification, Framework, Operation } from "../src/domain/vocabulary.js";
import { seededRandom } from "./stats.js";

export interface PopulationOptions {
  readonly tenants: number;
  /** Learner policies per tenant (at most 3 distinct shapes, then repeated). */
  readonly learnersPerTenant: number;
  /** Size of the request pool the loops cycle through. */
  readonly requests: number;
  readonly seed: number;
}

export interface Population {
  readonly policies: readonly StoredPolicy[];
  readonly requests: readonly DecisionRequest[];
  /** Problems the policy-validation rules found in the archetypes (empty when all are valid). */
  readonly invalid: readonly string[];
}

interface Archetype {
  readonly name: string;
  readonly tenant: Partial<PolicyFields>;
  readonly learners: readonly Partial<PolicyFields>[];
  /** Regions a request names to be allowed (besides "" = primary) and ones that are denied. */
  readonly allowedTargets: readonly string[];
  readonly deniedTargets: readonly string[];
}

const ARCHETYPES: readonly Archetype[] = [
  {
    name: "us-k12",
    tenant: {
      primaryRegion: "us-east",
      allowedRegions: ["us-west", "ca-central"],
      prohibitedRegions: ["eu-west"],
      complianceFrameworks: ["FERPA"],
      dataClassification: "EDUCATIONAL",
      allowCrossRegionFailover: true,
      dataRetentionDays: 2555,
    },
    learners: [
      { ageBand: "UNDER_13", dataRetentionDays: 365 },
      { allowedRegions: ["us-west"], prohibitedRegions: ["apac-east"] },
      { primaryRegion: "us-west" },
    ],
    allowedTargets: ["us-east", "us-west", "ca-central"],
    deniedTargets: ["eu-west", "apac-south", "eu-central"],
  },
  {
    name: "us-west-ccpa",
    tenant: {
      primaryRegion: "us-west",
      allowedRegions: ["us-east"],
      complianceFrameworks: ["FERPA", "CCPA"],
      dataClassification: "PERSONAL",
      dataRetentionDays: 1825,
    },
    learners: [
      { ageBand: "UNDER_13", dataRetentionDays: 365 },
      { prohibitedRegions: ["ca-central"] },
      { primaryRegion: "us-east" },
    ],
    allowedTargets: ["us-west", "us-east"],
    deniedTargets: ["eu-central", "apac-east", "ca-central"],
  },
  {
    name: "eu-gdpr",
    tenant: {
      primaryRegion: "eu-west",
      allowedRegions: ["eu-central"],
      prohibitedRegions: ["us-east", "us-west"],
      complianceFrameworks: ["GDPR"],
      dataClassification: "PERSONAL",
      allowCrossRegionFailover: true,
      dataRetentionDays: 1095,
    },
    learners: [
      { ageBand: "AGE_13_TO_15" },
      { allowedRegions: ["eu-central"], prohibitedRegions: ["apac-south"] },
      { primaryRegion: "eu-central" },
    ],
    allowedTargets: ["eu-west", "eu-central"],
    deniedTargets: ["us-east", "apac-south", "ca-central"],
  },
  {
    name: "ca-pipeda",
    tenant: {
      primaryRegion: "ca-central",
      allowedRegions: [],
      complianceFrameworks: ["PIPEDA"],
      dataClassification: "PERSONAL",
      dataRetentionDays: 2555,
    },
    learners: [{ ageBand: "ADULT" }, { prohibitedRegions: ["us-west"] }, { dataRetentionDays: 730 }],
    allowedTargets: ["ca-central"],
    deniedTargets: ["us-east", "eu-west", "apac-east"],
  },
  {
    name: "apac",
    tenant: {
      primaryRegion: "apac-south",
      allowedRegions: ["apac-east"],
      prohibitedRegions: ["us-east"],
      complianceFrameworks: [],
      dataClassification: "INTERNAL",
    },
    learners: [{ dataClassification: "SENSITIVE" }, { allowedRegions: ["apac-east"] }, { primaryRegion: "apac-east" }],
    allowedTargets: ["apac-south", "apac-east"],
    deniedTargets: ["us-east", "eu-west", "us-west"],
  },
];

const EMPTY_FIELDS: Omit<PolicyFields, "tenantId" | "learnerId"> = {
  primaryRegion: "",
  allowedRegions: [],
  prohibitedRegions: [],
  complianceFrameworks: [] as Framework[],
  dataClassification: undefined,
  allowCrossRegionFailover: undefined,
  dataRetentionDays: undefined,
  emergencyContact: "",
  ageBand: undefined,
  transferSafeguards: [],
  inferenceProviders: [],
};

function stored(id: string, tenantId: string, learnerId: string, fields: Partial<PolicyFields>): StoredPolicy {
  // Object.assign rather than `{ ...a, x }`: on Node 20 (V8 11.3) a spread followed by more properties
  // takes a slow runtime path (about 1 µs per extra property), which made building 40k policies take seconds.
  return Object.assign({}, EMPTY_FIELDS, { emergencyContact: learnerId === "" ? `dpo@${tenantId}.example` : "" }, fields, {
    tenantId,
    learnerId,
    policyId: id,
    version: 1,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    createdBy: "bench",
    updatedBy: "bench",
  });
}

/** Runs the write-time rules over each archetype once, so the bench never measures policies the API would refuse. */
function validateArchetypes(): string[] {
  const problems: string[] = [];
  for (const a of ARCHETYPES) {
    const tenant = stored("t", "tenant-x", "", a.tenant);
    for (const v of validatePolicy(tenant, { regions: DEFAULT_REGIONS, tenantPolicy: undefined, fieldPrefix: "policy" })) {
      problems.push(`${a.name} tenant: ${v.field} ${v.rule}: ${v.message}`);
    }
    a.learners.forEach((fields, i) => {
      const learner = stored("l", "tenant-x", `learner-${i}`, fields);
      for (const v of validatePolicy(learner, { regions: DEFAULT_REGIONS, tenantPolicy: tenant, fieldPrefix: "policy" })) {
        problems.push(`${a.name} learner ${i}: ${v.field} ${v.rule}: ${v.message}`);
      }
    });
  }
  return problems;
}

const OPERATION_WEIGHTS: readonly (readonly [Operation, number])[] = [
  ["READ", 40],
  ["WRITE", 25],
  ["SEARCH", 15],
  ["INFERENCE", 10],
  ["EXPORT", 5],
  ["DELETE", 5],
];

function weighted<T>(random: () => number, weights: readonly (readonly [T, number])[]): T {
  const total = weights.reduce((sum, [, w]) => sum + w, 0);
  let pick = random() * total;
  for (const [value, w] of weights) {
    pick -= w;
    if (pick < 0) return value;
  }
  return weights[weights.length - 1]![0];
}

export function buildPopulation(options: PopulationOptions): Population {
  const random = seededRandom(options.seed);
  const policies: StoredPolicy[] = [];
  const archetypeOf: Archetype[] = [];
  for (let t = 0; t < options.tenants; t++) {
    const archetype = ARCHETYPES[t % ARCHETYPES.length]!;
    archetypeOf.push(archetype);
    const tenantId = `tenant-${t}`;
    policies.push(stored(`pol-${t}-t`, tenantId, "", archetype.tenant));
    for (let l = 0; l < options.learnersPerTenant; l++) {
      const fields = archetype.learners[l % archetype.learners.length]!;
      policies.push(stored(`pol-${t}-l${l}`, tenantId, `learner-${l}`, fields));
    }
  }

  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const requests: DecisionRequest[] = [];
  for (let i = 0; i < options.requests; i++) {
    const roll = random();
    // 1% of requests come from tenants the snapshot does not know (fail closed: NO_POLICY).
    const t = Math.floor(random() * options.tenants);
    const tenantId = roll < 0.01 ? `unknown-tenant-${t}` : `tenant-${t}`;
    const archetype = archetypeOf[t]!;
    // Half tenant-level data, 40% a learner with a policy of their own, 10% a learner without one.
    const who = random();
    const learnerId =
      who < 0.5
        ? ""
        : who < 0.9 && options.learnersPerTenant > 0
          ? `learner-${Math.floor(random() * options.learnersPerTenant)}`
          : `learner-unlisted-${i % 1000}`;
    // Half ask for the primary region, 30% name an allowed region, 20% one the policy denies.
    const where = random();
    const requestedRegion = where < 0.5 ? "" : where < 0.8 ? pick(archetype.allowedTargets) : pick(archetype.deniedTargets);
    const dataClassification: DataClassification | undefined = random() < 0.05 ? "PUBLIC" : undefined;
    requests.push({ tenantId, learnerId, operation: weighted(random, OPERATION_WEIGHTS), requestedRegion, dataClassification });
  }
  return { policies, requests, invalid: validateArchetypes() };
}
