import { randomFillSync } from "node:crypto";

// crypto.randomUUID builds its answer by concatenating twenty short strings: some 600 bytes of garbage per
// id, and a string every later use (a header check, a hash) must flatten first. A ResolveAccess makes two
// (the decision id and, when the caller sends none, the request id). This writes the same text, from the
// same kind of randomness, into a buffer and reads it out as one flat string.

const BATCH = 128;
const entropy = Buffer.allocUnsafeSlow(16 * BATCH);
let used = BATCH;
const text = Buffer.allocUnsafeSlow(36);
const HEX = Buffer.from("0123456789abcdef", "latin1");

/** A random (version 4) UUID in lower-case hex, as crypto.randomUUID gives it; the randomness comes in batches, as there. */
export function randomUuid(): string {
  if (used === BATCH) {
    randomFillSync(entropy);
    used = 0;
  }
  const offset = 16 * used++;
  entropy[offset + 6] = (entropy[offset + 6]! & 0x0f) | 0x40;
  entropy[offset + 8] = (entropy[offset + 8]! & 0x3f) | 0x80;
  let pos = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[pos++] = 0x2d;
    const byte = entropy[offset + i]!;
    text[pos++] = HEX[byte >> 4]!;
    text[pos++] = HEX[byte & 0x0f]!;
  }
  return text.toString("latin1", 0, 36);
}
