// `npm run demo-data [-- --url http://127.0.0.1:8000] [--token <JWT>]`: loads the seed's sample tenant into a
// running service through its public API, so that the running snapshot sees the policies at once. Without
// --token it mints a short-lived policy-admin token with this environment's SECRET_KEY (the service's own
// when run alongside it).
import { parseArgs } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { policyToProto } from "../api/policy-mapping.js";
import { mintToken } from "../auth/mint-token.js";
import { loadConfig } from "../config.js";
import { DEMO_POLICIES } from "../demo/demo-policies.js";

const { values } = parseArgs({ options: { url: { type: "string", default: "http://127.0.0.1:8000" }, token: { type: "string" } } });
const token = values.token ?? (await demoToken());
const client = createClient(
  AdminService,
  createConnectTransport({
    baseUrl: values.url!,
    httpVersion: "1.1",
    interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))],
  }),
);

async function demoToken(): Promise<string> {
  const { auth } = loadConfig();
  return mintToken({
    secretKey: auth.secretKey,
    subject: "demo-data",
    roles: ["policy-admin"],
    tenants: [...new Set(DEMO_POLICIES.map((p) => p.tenantId))],
    ttlSeconds: 300,
    now: Date.now(),
    issuer: auth.issuer,
    audience: auth.audience,
  });
}

for (const fields of DEMO_POLICIES) {
  const who = fields.learnerId ? `${fields.tenantId}/${fields.learnerId}` : fields.tenantId;
  const policy = policyToProto({ ...fields, policyId: "", version: 0, createdAt: 0, updatedAt: 0, createdBy: "", updatedBy: "" });
  try {
    const { policy: stored } = await client.createPolicy({ policy });
    console.log(`created ${who}: ${stored?.policyId}`);
  } catch (err) {
    const error = ConnectError.from(err);
    if (error.code === Code.AlreadyExists) console.log(`exists  ${who}`);
    else {
      console.error(`failed  ${who}: [${Code[error.code]}] ${error.rawMessage} (is the service running at ${values.url}?)`);
      process.exitCode = 1;
      break;
    }
  }
}
