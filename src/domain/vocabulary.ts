// The closed vocabularies of the decision engine. They mirror the enums of proto/residency/v1 by name
// (without the proto prefix), so that the API edge maps them mechanically and domain/ never imports gen/.

export const OPERATIONS = ["READ", "WRITE", "DELETE", "EXPORT", "INFERENCE", "SEARCH"] as const;
export type Operation = (typeof OPERATIONS)[number];

export const DATA_CLASSIFICATIONS = ["PUBLIC", "INTERNAL", "EDUCATIONAL", "PERSONAL", "SENSITIVE"] as const;
export type DataClassification = (typeof DATA_CLASSIFICATIONS)[number];

export const FRAMEWORKS = ["GDPR", "CCPA", "FERPA", "COPPA", "PIPEDA", "LGPD"] as const;
export type Framework = (typeof FRAMEWORKS)[number];

export const AGE_BANDS = ["UNDER_13", "AGE_13_TO_15", "AGE_16_TO_17", "ADULT"] as const;
export type AgeBand = (typeof AGE_BANDS)[number];

export const SAFEGUARDS = ["DPF", "SCC"] as const;
export type Safeguard = (typeof SAFEGUARDS)[number];

export const REGION_STATUSES = ["HEALTHY", "DEGRADED", "DOWN"] as const;
export type RegionStatus = (typeof REGION_STATUSES)[number];

export const REASON_EFFECTS = ["PASS", "DENY", "OBLIGATION", "INFO"] as const;
export type ReasonEffect = (typeof REASON_EFFECTS)[number];

/** Every outcome and rule of docs/compliance-rules.md; names equal proto ReasonCode values without prefix. */
export const REASON_CODES = [
  "PRIMARY_REGION",
  "ALLOWED_REGION",
  "DEFAULT_REGION",
  "NO_POLICY",
  "REGION_PROHIBITED",
  "REGION_NOT_ALLOWED",
  "EMERGENCY_OVERRIDE_APPLIED",
  "PUBLIC_DATA",
  "COPPA_ADDED_FOR_AGE",
  "REGION_UNAVAILABLE",
  "REGION_FAILOVER",
  "REGION_DEGRADED",
  "INFERENCE_PROVIDER_SELECTED",
  "INFERENCE_NO_COMPLIANT_PROVIDER",
  "GDPR_TRANSFER_WITHIN_EEA",
  "GDPR_TRANSFER_ADEQUACY",
  "GDPR_TRANSFER_SAFEGUARD",
  "GDPR_TRANSFER_NO_BASIS",
  "GDPR_PROVIDER_NOT_PERMITTED",
  "GDPR_PRIMARY_OUTSIDE_EEA",
  "GDPR_ALLOWED_REGION_NO_BASIS",
  "GDPR_ART49_DEROGATION",
  "FERPA_WITHIN_US_CA",
  "FERPA_OUTSIDE_US_CA",
  "FERPA_PROVIDER_NOT_PERMITTED",
  "FERPA_PRIMARY_OUTSIDE_US_CA",
  "FERPA_ALLOWED_REGION_OUTSIDE_US_CA",
  "COPPA_PROVIDER_NOT_PERMITTED",
  "COPPA_RETENTION_CAPPED",
  "COPPA_RETENTION_REQUIRED",
  "CCPA_PROVIDER_NOT_PERMITTED",
  "PIPEDA_CROSS_BORDER_NOTICE",
  "PIPEDA_CROSS_BORDER_NOT_LISTED",
  "PIPEDA_PRIMARY_NOT_CA_CENTRAL",
  "LGPD_SAFEGUARD_REQUIRED",
  "LGPD_TRANSFER_SAFEGUARD",
  "FRAMEWORKS_INCOMPATIBLE",
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];
