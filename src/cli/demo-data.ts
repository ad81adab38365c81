// `npm run demo-data [-- --url http://127.0.0.1:8000]`: loads the seed's sample tenant into a running
// service through its public API, so that the running snapshot sees the policies at once.
import { parseArgs } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AdminService } from "../../gen/residency/v1/admin_service_pb.js";
import { policyToProto } from "../api/policy-mapping.js";
import { DEMO_POLICIES } from "../demo/demo-policies.js";

const { values } = parseArgs({ options: { url: { type: "string", default: "http://127.0.0.1:8000" } } });
const client = createClient(AdminService, createConnectTransport({ baseUrl: values.url!, httpVersion: "1.1" }));

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
