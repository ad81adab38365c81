import type { ChangeEvent } from "../bus/change-bus.js";
import { validatePolicy } from "../domain/policy-validation.js";
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  type FieldViolation,
} from "../domain/errors.js";
import type { PolicyFields, StoredPolicy } from "../domain/policy.js";
import type { Region } from "../domain/region.js";
import type { WrittenPolicies } from "../replication/snapshot-sync.js";
import {
  writeMeta,
  type Committed,
  type ListPoliciesQuery,
  type PolicyStore,
  type PolicyWriteState,
  type WriteAuthor,
  type WriteMeta,
} from "../store/policy-store.js";

export interface PolicyServiceDeps {
  readonly store: PolicyStore;
  readonly regions: ReadonlyMap<string, Region>;
  readonly clock: () => number;
  /**
   * Announces a committed change and resolves once this replica's snapshot includes it; `written` (what the write
   * stored) lets this replica apply it without reading it back.
   */
  readonly announce: (change: ChangeEvent, written?: WrittenPolicies) => Promise<void>;
}

/**
 * Whether the caller may see a tenant's policies. By-id reads and writes of a policy of a tenant it may
 * not see fail exactly like a missing id (NotFoundError, same message), so that no caller learns that
 * another tenant exists. Omitted: every tenant.
 */
export type TenantVisibility = (tenantId: string) => boolean;

export interface PolicyService {
  create(fields: PolicyFields, actor: WriteAuthor, edgeViolations?: readonly FieldViolation[]): Promise<StoredPolicy>;
  update(
    policyId: string,
    fields: PolicyFields,
    expectedVersion: number,
    actor: WriteAuthor,
    edgeViolations?: readonly FieldViolation[],
    visible?: TenantVisibility,
  ): Promise<StoredPolicy>;
  remove(policyId: string, expectedVersion: number, actor: WriteAuthor, visible?: TenantVisibility): Promise<void>;
  get(policyId: string, version?: number, visible?: TenantVisibility): Promise<StoredPolicy>;
  list(query: ListPoliciesQuery): Promise<StoredPolicy[]>;
}

const PREFIX = "policy";

/**
 * Policy writes: validate against the catalog and the tenant's policy, commit, announce, and return once
 * this replica decides with the change (read-your-writes on the replica that took the write). Validation runs
 * inside the write's transaction (a PolicyWriteCheck), on the very state the write commits on: no read of its own
 * before the write, and no other write in between.
 */
export function createPolicyService(deps: PolicyServiceDeps): PolicyService {
  const { store } = deps;

  const validate = (fields: PolicyFields, tenantPolicy: StoredPolicy | undefined, edge: readonly FieldViolation[]) => {
    const context = { regions: deps.regions, tenantPolicy: fields.learnerId === "" ? undefined : tenantPolicy, fieldPrefix: PREFIX };
    const violations = [...edge, ...validatePolicy(fields, context)];
    if (violations.length > 0) throw new InvalidArgumentError(violations);
  };

  /** A tenant policy change must not leave one of its learners with an invalid effective policy. */
  const checkLearners = (tenantId: string, learners: readonly StoredPolicy[], tenantPolicy: StoredPolicy | undefined) => {
    const broken: FieldViolation[] = [];
    const names = new Set<string>();
    for (const learner of learners) {
      const problems = validatePolicy(learner, { regions: deps.regions, tenantPolicy, fieldPrefix: PREFIX });
      if (problems.length > 0) names.add(learner.learnerId);
      for (const problem of problems) {
        broken.push({ ...problem, field: `learner ${learner.learnerId} (${learner.policyId}): ${problem.field}` });
      }
    }
    if (broken.length > 0) {
      throw new FailedPreconditionError(
        `the change would make the effective policy of learner(s) ${[...names].join(", ")} of tenant ${tenantId} invalid: ${broken
          .map((b) => b.message)
          .join("; ")}`,
        broken,
      );
    }
  };

  /** The policy an update or delete targets, as the check sees it; missing and invisible look the same. */
  const visibleCurrent = (state: PolicyWriteState, policyId: string, visible: TenantVisibility): StoredPolicy => {
    const stored = state.current;
    if (stored === undefined || !visible(stored.tenantId)) throw new NotFoundError(`policy ${policyId} does not exist`);
    return stored;
  };

  const committed = async (result: Committed<StoredPolicy>, meta: WriteMeta, written: Omit<WrittenPolicies, "committedAt">) => {
    const ids = written.policies.length > 0 ? written.policies.map((p) => p.policyId) : written.deletedPolicyIds;
    await deps.announce({ version: result.changeVersion, kind: "policy", ids }, { ...written, committedAt: meta.now });
    return result.value;
  };

  return {
    async create(fields, actor, edge = []) {
      const meta = writeMeta(actor, deps.clock());
      const result = await store.createPolicy(fields, meta, (state) => validate(fields, state.tenantPolicy, edge));
      return committed(result, meta, { policies: [result.value], deletedPolicyIds: [] });
    },

    async update(policyId, fields, expectedVersion, actor, edge = [], visible = everyTenant) {
      const meta = writeMeta(actor, deps.clock());
      const result = await store.updatePolicy(policyId, fields, expectedVersion, meta, (state) => {
        const stored = visibleCurrent(state, policyId, visible);
        const identity: FieldViolation[] = [];
        if (fields.tenantId !== "" && fields.tenantId !== stored.tenantId) {
          identity.push({ field: `${PREFIX}.tenant_id`, rule: "immutable", message: `${PREFIX}.tenant_id cannot change (policy ${policyId} belongs to tenant ${stored.tenantId})` });
        }
        if (fields.learnerId !== "" && fields.learnerId !== stored.learnerId) {
          identity.push({ field: `${PREFIX}.learner_id`, rule: "immutable", message: `${PREFIX}.learner_id cannot change (policy ${policyId} is for ${stored.learnerId ? `learner ${stored.learnerId}` : "the tenant"})` });
        }
        const next: PolicyFields = { ...fields, tenantId: stored.tenantId, learnerId: stored.learnerId };
        validate(next, state.tenantPolicy, [...edge, ...identity]);
        if (stored.learnerId === "") checkLearners(stored.tenantId, state.learnerPolicies, { ...stored, ...next });
      });
      return committed(result, meta, { policies: [result.value], deletedPolicyIds: [] });
    },

    async remove(policyId, expectedVersion, actor, visible = everyTenant) {
      const meta = writeMeta(actor, deps.clock());
      const result = await store.deletePolicy(policyId, expectedVersion, meta, (state) => {
        const stored = visibleCurrent(state, policyId, visible);
        if (stored.learnerId === "") checkLearners(stored.tenantId, state.learnerPolicies, undefined);
      });
      await committed(result, meta, { policies: [], deletedPolicyIds: [policyId] });
    },

    async get(policyId, version, visible = everyTenant) {
      const found = await store.getPolicy(policyId, version);
      if (found === undefined || !visible(found.tenantId)) {
        throw new NotFoundError(
          version === undefined ? `policy ${policyId} does not exist` : `policy ${policyId} has no version ${version}`,
        );
      }
      return found;
    },

    list: (query) => store.listPolicies(query),
  };
}

const everyTenant: TenantVisibility = () => true;
