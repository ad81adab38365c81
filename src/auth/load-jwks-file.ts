import { readFile } from "node:fs/promises";
import type { JSONWebKeySet } from "jose";
import { ConfigError } from "../config.js";

/** Reads JWT_JWKS_FILE: a JSON Web Key Set (`{ "keys": [ … ] }`) of public keys. */
export async function loadJwksFile(file: string): Promise<JSONWebKeySet> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new ConfigError([`JWT_JWKS_FILE ${file}: cannot be read as JSON: ${(err as Error).message}`]);
  }
  const keys = typeof doc === "object" && doc !== null ? (doc as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === "object" && k !== null)) {
    throw new ConfigError([`JWT_JWKS_FILE ${file}: must be a JSON Web Key Set, { "keys": [ … ] } with at least one key`]);
  }
  const privateKeys = keys.filter((k) => "d" in (k as object));
  if (privateKeys.length > 0) {
    throw new ConfigError([`JWT_JWKS_FILE ${file}: holds private key material ("d"); publish only the public keys`]);
  }
  return doc as JSONWebKeySet;
}
