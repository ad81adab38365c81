import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A PEM certificate and its key, as files and as bytes. */
export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TestPki {
  readonly dir: string;
  /** The CA that signs the server certificate and the trusted client certificates. */
  readonly ca: CertificateFiles;
  /** CN=localhost, SAN DNS:localhost and IP:127.0.0.1, serverAuth. */
  readonly server: CertificateFiles;
  /** A clientAuth certificate signed by `ca`. */
  client(commonName: string): Promise<CertificateFiles>;
  /** A clientAuth certificate signed by a CA the server does not trust. */
  foreignClient(commonName: string): Promise<CertificateFiles>;
  cleanup(): Promise<void>;
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A throwaway PKI made with the openssl CLI in a temp dir: EC P-256 keys, valid for one day. */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), "residency-pki-"));
  const path = (name: string) => join(dir, name);
  const files = async (name: string): Promise<CertificateFiles> => ({
    certFile: path(`${name}.crt`),
    keyFile: path(`${name}.key`),
    cert: await readFile(path(`${name}.crt`)),
    key: await readFile(path(`${name}.key`)),
  });

  const makeCa = async (name: string, cn: string) => {
    await run("openssl", [
      "req", "-x509", ...EC_KEY, "-keyout", path(`${name}.key`), "-out", path(`${name}.crt`), "-days", "1", "-subj", `/CN=${cn}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    return files(name);
  };
  const issue = async (name: string, cn: string, ca: string, extensions: string) => {
    await writeFile(path(`${name}.ext`), extensions);
    await run("openssl", ["req", "-new", ...EC_KEY, "-keyout", path(`${name}.key`), "-out", path(`${name}.csr`), "-subj", `/CN=${cn}`]);
    await run("openssl", [
      "x509", "-req", "-in", path(`${name}.csr`), "-CA", path(`${ca}.crt`), "-CAkey", path(`${ca}.key`), "-CAcreateserial",
      "-out", path(`${name}.crt`), "-days", "1", "-extfile", path(`${name}.ext`),
    ]);
    return files(name);
  };
  const clientExtensions = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";

  const ca = await makeCa("ca", "residency test CA");
  const server = await issue(
    "server",
    "localhost",
    "ca",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  let foreignCa: Promise<CertificateFiles> | undefined;
  let serial = 0;
  return {
    dir,
    ca,
    server,
    client: (cn) => issue(`client-${serial++}`, cn, "ca", clientExtensions),
    async foreignClient(cn) {
      await (foreignCa ??= makeCa("foreign-ca", "someone else's CA"));
      return issue(`foreign-${serial++}`, cn, "foreign-ca", clientExtensions);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
