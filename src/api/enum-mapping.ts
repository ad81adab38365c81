import {
  AgeBand as PbAgeBand,
  ComplianceFramework as PbFramework,
  DataClassification as PbClassification,
  Operation as PbOperation,
  RegionStatus as PbRegionStatus,
  TransferSafeguard as PbSafeguard,
} from "../../gen/residency/v1/types_pb.js";
import { ReasonCode as PbReasonCode, ReasonEffect as PbReasonEffect } from "../../gen/residency/v1/reason_pb.js";
import {
  AGE_BANDS,
  DATA_CLASSIFICATIONS,
  FRAMEWORKS,
  OPERATIONS,
  REASON_CODES,
  REASON_EFFECTS,
  REGION_STATUSES,
  SAFEGUARDS,
} from "../domain/vocabulary.js";

/**
 * Domain vocabularies and proto enums share value names (the proto adds a prefix that protobuf-es strips),
 * so each mapping is built once from the names and checked at load: a value added on one side only
 * fails at start, not at the first request that uses it.
 */
export interface EnumMapping<D extends string> {
  toProto(value: D): number;
  /** Undefined for UNSPECIFIED and for numbers the enum does not know. */
  fromProto(value: number): D | undefined;
  /** "GDPR, CCPA, …", for error messages. */
  readonly names: string;
}

function enumMapping<D extends string>(pb: Record<string, string | number>, values: readonly D[]): EnumMapping<D> {
  const toProto = new Map<D, number>();
  const fromProto = new Map<number, D>();
  for (const value of values) {
    const number = pb[value];
    if (typeof number !== "number") throw new Error(`proto enum lacks domain value ${value}`);
    toProto.set(value, number);
    fromProto.set(number, value);
  }
  return {
    toProto: (value) => toProto.get(value)!,
    fromProto: (value) => fromProto.get(value),
    names: values.join(", "),
  };
}

export const operationMapping = enumMapping(PbOperation, OPERATIONS);
export const classificationMapping = enumMapping(PbClassification, DATA_CLASSIFICATIONS);
export const frameworkMapping = enumMapping(PbFramework, FRAMEWORKS);
export const ageBandMapping = enumMapping(PbAgeBand, AGE_BANDS);
export const safeguardMapping = enumMapping(PbSafeguard, SAFEGUARDS);
export const regionStatusMapping = enumMapping(PbRegionStatus, REGION_STATUSES);
export const reasonCodeMapping = enumMapping(PbReasonCode, REASON_CODES);
export const reasonEffectMapping = enumMapping(PbReasonEffect, REASON_EFFECTS);
