import { readFile } from "node:fs/promises";
import { ConfigError, type TlsConfig } from "../config.js";

/** The PEM files both listeners serve TLS with. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Set: client certificates are required and must chain to these CAs (mTLS). */
  readonly clientCa: Buffer | undefined;
}

/** Reads TLS_CERT_FILE, TLS_KEY_FILE and TLS_CLIENT_CA_FILE; a file that cannot be read is a ConfigError naming it. */
export async function loadTlsMaterial(config: TlsConfig): Promise<TlsMaterial> {
  const problems: string[] = [];
  const read = async (name: string, file: string | undefined): Promise<Buffer | undefined> => {
    if (file === undefined) return undefined;
    try {
      const pem = await readFile(file);
      if (!pem.includes("-----BEGIN ")) problems.push(`${name} ${file}: is not a PEM file`);
      return pem;
    } catch (err) {
      problems.push(`${name} ${file}: cannot be read: ${(err as Error).message}`);
      return undefined;
    }
  };
  const [cert, key, clientCa] = await Promise.all([
    read("TLS_CERT_FILE", config.certFile),
    read("TLS_KEY_FILE", config.keyFile),
    read("TLS_CLIENT_CA_FILE", config.clientCaFile),
  ]);
  if (problems.length > 0 || cert === undefined || key === undefined) throw new ConfigError(problems);
  return { cert, key, clientCa };
}
