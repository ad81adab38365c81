import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { RegionSchema } from "../../gen/residency/v1/region_pb.js";
import type { Region } from "../domain/region.js";
import { regionStatusMapping } from "./enum-mapping.js";

export function regionToProto(region: Region): MessageInitShape<typeof RegionSchema> {
  return {
    id: region.id,
    displayName: region.displayName,
    country: region.country,
    legalArea: region.legalArea,
    status: regionStatusMapping.toProto(region.status),
    statusReason: region.statusReason,
    statusUpdateTime: region.statusUpdatedAt === undefined ? undefined : timestampFromMs(region.statusUpdatedAt),
    storageBucket: region.storageBucket,
    storageEndpoint: region.storageEndpoint,
    searchEndpoint: region.searchEndpoint,
    inferenceProviders: region.inferenceProviders.map((p) => ({ ...p })),
    gdprAdequacy: region.gdprAdequacy,
  };
}
