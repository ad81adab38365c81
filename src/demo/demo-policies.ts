import { EMPTY_POLICY_FIELDS, type PolicyFields } from "../domain/policy.js";

const base = EMPTY_POLICY_FIELDS;

/** The seed's sample tenant `acme-edu` (its "Create Residency Policy" example) and a few learners. */
export const DEMO_POLICIES: readonly PolicyFields[] = [
  {
    ...base,
    tenantId: "acme-edu",
    learnerId: "",
    primaryRegion: "us-east",
    allowedRegions: ["us-west", "ca-central"],
    prohibitedRegions: ["eu-west"],
    complianceFrameworks: ["FERPA", "COPPA"],
    dataClassification: "EDUCATIONAL",
    allowCrossRegionFailover: true,
    dataRetentionDays: 2555,
    emergencyContact: "dpo@acme-edu.com",
  },
  // Inherits everything; under 13, so COPPA applies to it whatever the tenant says.
  { ...base, tenantId: "acme-edu", learnerId: "student-123", primaryRegion: "", ageBand: "UNDER_13" },
  // Narrower than its tenant: may not leave the US (its own allowed list replaces the tenant's).
  {
    ...base,
    tenantId: "acme-edu",
    learnerId: "student-456",
    primaryRegion: "",
    ageBand: "ADULT",
    allowedRegions: ["us-west"],
    prohibitedRegions: ["ca-central"],
  },
  // Lives in Canada: a different primary region from its tenant.
  { ...base, tenantId: "acme-edu", learnerId: "student-789", primaryRegion: "ca-central", ageBand: "AGE_16_TO_17", dataRetentionDays: 365 },
];
