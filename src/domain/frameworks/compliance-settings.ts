/** Deployment-wide knobs of the framework rules; the service passes them when it merges policies. */
export interface ComplianceSettings {
  /**
   * COPPA: the longest retention in force for a child's data, whatever the policy writes.
   * @default 365
   */
  readonly coppaRetentionCapDays: number;
}

export const DEFAULT_COMPLIANCE_SETTINGS: ComplianceSettings = Object.freeze({ coppaRetentionCapDays: 365 });

/** Fills the defaults; throws RangeError for a cap that is not a whole number of days ≥ 1 (a configuration error). */
export function complianceSettings(partial: Partial<ComplianceSettings> | undefined): ComplianceSettings {
  if (partial === undefined || partial.coppaRetentionCapDays === undefined) return DEFAULT_COMPLIANCE_SETTINGS;
  const cap = partial.coppaRetentionCapDays;
  if (!Number.isInteger(cap) || cap < 1) {
    throw new RangeError(`coppaRetentionCapDays must be a whole number of days ≥ 1, got ${cap}`);
  }
  return { coppaRetentionCapDays: cap };
}
