import { AuditChainHeadSchema } from "./audit-chain-head.js";
import { AuditEntryRowSchema } from "./audit-entry-row.js";
import { AuditSpoolProgressSchema } from "./audit-spool-progress.js";
import { AuditViolationRowSchema } from "./audit-violation-row.js";
import { ChangeLogRowSchema } from "./change-log-row.js";
import { EmergencyOverrideRowSchema } from "./emergency-override-row.js";
import { PolicyRecordSchema } from "./policy-record.js";
import { PolicyVersionRecordSchema } from "./policy-version-record.js";
import { RegionStatusRowSchema } from "./region-status-row.js";
import { StoreStateSchema } from "./store-state.js";

/** Every entity the policy store maps; hand this to MikroORM's `entities` option (SQLite and Postgres alike). */
export const policyStoreEntities = [
  PolicyRecordSchema,
  PolicyVersionRecordSchema,
  StoreStateSchema,
  ChangeLogRowSchema,
  RegionStatusRowSchema,
  EmergencyOverrideRowSchema,
  AuditEntryRowSchema,
  AuditViolationRowSchema,
  AuditChainHeadSchema,
  AuditSpoolProgressSchema,
];
