import type { RegionStatus } from "./vocabulary.js";

/** A model provider's endpoint in one region, with the data-handling facts the frameworks judge. */
export interface InferenceProvider {
  readonly id: string;
  readonly endpoint: string;
  readonly zeroDataRetention: boolean;
  readonly noTraining: boolean;
  /** Processes data in any country; never chosen for a pinned tenant. */
  readonly globalRouting: boolean;
}

/** One entry of the region catalog. Immutable: a status change builds a new Region. */
export interface Region {
  readonly id: string;
  readonly displayName: string;
  /** ISO 3166-1 alpha-2. */
  readonly country: string;
  /** "EEA", "US", "CA", "IN", "JP": failover prefers the same legal area. */
  readonly legalArea: string;
  /** Transfers from the EEA rest on an EU adequacy decision. */
  readonly gdprAdequacy: boolean;
  readonly status: RegionStatus;
  readonly statusReason: string;
  /** Epoch milliseconds of the last status change; undefined for the catalog default. */
  readonly statusUpdatedAt: number | undefined;
  readonly storageBucket: string;
  readonly storageEndpoint: string;
  readonly searchEndpoint: string;
  readonly inferenceProviders: readonly InferenceProvider[];
}
