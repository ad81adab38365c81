import { EntitySchema } from "@mikro-orm/core";

/**
 * How many lines of a local spool segment are in the chain. Updated in the transaction that appends them, so a
 * replay interrupted at any point resumes without appending a line twice.
 */
export interface AuditSpoolProgress {
  /** The segment's file name (unique: time, process id and a random part). */
  segment: string;
  lines: number;
}

export const AuditSpoolProgressSchema = new EntitySchema<AuditSpoolProgress>({
  name: "AuditSpoolProgress",
  tableName: "audit_spool_progress",
  properties: {
    segment: { type: "text", primary: true },
    lines: { type: "integer" },
  },
});
