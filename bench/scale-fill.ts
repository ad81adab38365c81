// The population of bench/scale.ts, inserted with SQL (not through the API): a quarter tenant policies, three
// learner policies per tenant, three archetypes (US/FERPA, EU/GDPR, Canada/PIPEDA).
import { adminQuery } from "./replica-cluster.js";

/** Fills the policy table of a migrated database with `count` policies in one INSERT … SELECT per kind. */
export async function fillPolicies(database: string, count: number): Promise<number> {
  const tenants = Math.ceil(count / 4);
  const learners = count - tenants;
  const now = Date.now();
  const started = performance.now();
  const archetype = (i: string, cases: [string, string, string]) => `(case ${i} % 3 when 0 then ${cases[0]} when 1 then ${cases[1]} else ${cases[2]} end)`;
  const columns = `policy_id, tenant_id, learner_id, primary_region, allowed_regions, prohibited_regions, compliance_frameworks,
    data_classification, allow_cross_region_failover, data_retention_days, emergency_contact, age_band, transfer_safeguards,
    inference_providers, created_at, created_by, version, updated_at, updated_by`;
  await adminQuery(
    `insert into policy (${columns})
     select 'pol_t' || i, 'tenant-' || i, '',
       ${archetype("i", ["'us-east'", "'eu-west'", "'ca-central'"])},
       ${archetype("i", [`'["us-west","ca-central"]'::jsonb`, `'["eu-central"]'::jsonb`, `'[]'::jsonb`])},
       ${archetype("i", [`'["eu-west"]'::jsonb`, `'[]'::jsonb`, `'["apac-south"]'::jsonb`])},
       ${archetype("i", [`'["FERPA"]'::jsonb`, `'["GDPR"]'::jsonb`, `'["PIPEDA"]'::jsonb`])},
       'EDUCATIONAL', true, ${archetype("i", ["2555", "730", "1825"])}, 'dpo@example.edu', null, '[]'::jsonb, '[]'::jsonb,
       ${now}, 'bench', 1, ${now}, 'bench'
     from generate_series(0, ${tenants - 1}) as i`,
    [],
    database,
  );
  if (learners > 0) {
    // Learner j belongs to tenant j / 3: one UNDER_13 learner, one narrowing the allowed list, one pinned elsewhere.
    await adminQuery(
      `insert into policy (${columns})
       select 'pol_l' || j, 'tenant-' || (j / 3), 'learner-' || (j % 3),
         ${archetype("j", ["''", "''", "(case (j / 3) % 3 when 0 then 'us-west' when 1 then 'eu-central' else '' end)"])},
         ${archetype("j", [`'[]'::jsonb`, `(case (j / 3) % 3 when 0 then '["us-west"]'::jsonb when 1 then '["eu-central"]'::jsonb else '[]'::jsonb end)`, `'[]'::jsonb`])},
         '[]'::jsonb, '[]'::jsonb, null, null, ${archetype("j", ["365", "null", "null"])}, '',
         ${archetype("j", ["'UNDER_13'", "null", "null"])}, '[]'::jsonb, '[]'::jsonb,
         ${now}, 'bench', 1, ${now}, 'bench'
       from generate_series(0, ${learners - 1}) as j`,
      [],
      database,
    );
  }
  await adminQuery("analyze policy", [], database);
  return performance.now() - started;
}
