import { AlreadyExistsError } from "../domain/errors.js";
import type { PolicyService } from "../policies/policy-service.js";
import { DEMO_POLICIES } from "./demo-policies.js";

/** Creates the demo policies that do not exist yet; returns how many it created. Safe to run twice. */
export async function loadDemoData(policies: PolicyService, actor: string): Promise<number> {
  let created = 0;
  for (const fields of DEMO_POLICIES) {
    try {
      await policies.create(fields, actor);
      created++;
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
    }
  }
  return created;
}
