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
import { writeMeta, type Committed, type ListPoliciesQuery, type PolicyStore, type WriteAuthor } from "../store/policy-store.js";

export interface PolicyServiceDeps {
  readonly store: PolicyStore;
  readonly regions: ReadonlyMap<string, Region>;
  readonly clock: () => number;
  /** Announces a committed change and resolves once this replica's snapshot includes it. */
  readonly announce: (change: ChangeEvent) => Promise<void>;
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
 * this replica decides with the change (read-your-writes on the replica that took the write).
 */
export function createPolicyService(deps: PolicyServiceDeps): PolicyService {
  const { store } = deps;

  const tenantPolicyOf = async (tenantId: string): Promise<StoredPolicy | undefined> => {
    const [first] = await store.listPolicies({ tenantId, limit: 1, after: undefined });
    return first?.learnerId === "" ? first : undefined;
  };

  const learnerPoliciesOf = async (tenantId: string): Promise<StoredPolicy[]> => {
    const learners: StoredPolicy[] = [];
    let after: ListPoliciesQuery["after"] = undefined;
    for (;;) {
      const page = await store.listPolicies({ tenantId, limit: 500, after });
      learners.push(...page.filter((p) => p.learnerId !== ""));
      const last = page.at(-1);
      if (last === undefined || page.length < 500) return learners;
      after = { tenantId: last.tenantId, learnerId: last.learnerId };
    }
  };

  const validate = async (fields: PolicyFields, edge: readonly FieldViolation[]) => {
    const tenantPolicy = fields.learnerId === "" ? undefined : await tenantPolicyOf(fields.tenantId);
    const violations = [...edge, ...validatePolicy(fields, { regions: deps.regions, tenantPolicy, fieldPrefix: PREFIX })];
    if (violations.length > 0) throw new InvalidArgumentError(violations);
  };

  /** A tenant policy change must not leave one of its learners with an invalid effective policy. */
  const checkLearners = async (tenantId: string, tenantPolicy: StoredPolicy | undefined) => {
    const broken: FieldViolation[] = [];
    const names = new Set<string>();
    for (const learner of await learnerPoliciesOf(tenantId)) {
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

  const committed = async <T>(result: Committed<T>, ids: readonly string[]): Promise<T> => {
    await deps.announce({ version: result.changeVersion, kind: "policy", ids });
    return result.value;
  };

  const current = async (policyId: string, visible: TenantVisibility): Promise<StoredPolicy> => {
    const stored = await store.getPolicy(policyId);
    if (stored === undefined || !visible(stored.tenantId)) throw new NotFoundError(`policy ${policyId} does not exist`);
    return stored;
  };

  return {
    async create(fields, actor, edge = []) {
      await validate(fields, edge);
      const result = await store.createPolicy(fields, writeMeta(actor, deps.clock()));
      return committed(result, [result.value.policyId]);
    },

    async update(policyId, fields, expectedVersion, actor, edge = [], visible = everyTenant) {
      const stored = await current(policyId, visible);
      const identity: FieldViolation[] = [];
      if (fields.tenantId !== "" && fields.tenantId !== stored.tenantId) {
        identity.push({ field: `${PREFIX}.tenant_id`, rule: "immutable", message: `${PREFIX}.tenant_id cannot change (policy ${policyId} belongs to tenant ${stored.tenantId})` });
      }
      if (fields.learnerId !== "" && fields.learnerId !== stored.learnerId) {
        identity.push({ field: `${PREFIX}.learner_id`, rule: "immutable", message: `${PREFIX}.learner_id cannot change (policy ${policyId} is for ${stored.learnerId ? `learner ${stored.learnerId}` : "the tenant"})` });
      }
      const next: PolicyFields = { ...fields, tenantId: stored.tenantId, learnerId: stored.learnerId };
      await validate(next, [...edge, ...identity]);
      if (stored.learnerId === "") {
        await checkLearners(stored.tenantId, { ...stored, ...next });
      }
      const result = await store.updatePolicy(policyId, next, expectedVersion, writeMeta(actor, deps.clock()));
      return committed(result, [policyId]);
    },

    async remove(policyId, expectedVersion, actor, visible = everyTenant) {
      const stored = await current(policyId, visible);
      if (stored.learnerId === "") await checkLearners(stored.tenantId, undefined);
      const result = await store.deletePolicy(policyId, expectedVersion, writeMeta(actor, deps.clock()));
      await committed(result, [policyId]);
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
