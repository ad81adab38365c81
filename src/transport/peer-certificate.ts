import type { PeerCertificate as NodePeerCertificate } from "node:tls";
import type { PeerCertificate } from "../api/call-context.js";

/**
 * The CallContext view of a client certificate Node's TLS layer has verified. Returns undefined for an
 * empty certificate (Node's answer when the client sent none). A multi-valued attribute (two CNs) is
 * kept out of `subject`, and `commonName` is then undefined: such a certificate names no one.
 */
export function peerCertificateFrom(cert: NodePeerCertificate | undefined): PeerCertificate | undefined {
  if (cert === undefined || cert === null || !cert.raw || Object.keys(cert).length === 0) return undefined;
  const subject: Record<string, string> = {};
  for (const [key, value] of Object.entries((cert.subject ?? {}) as unknown as Record<string, unknown>)) {
    if (typeof value === "string") subject[key] = value;
  }
  return { commonName: subject.CN, subject, fingerprint256: cert.fingerprint256 };
}
