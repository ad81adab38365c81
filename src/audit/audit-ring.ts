/**
 * The audit queue between the decision path and the writer thread: encoded records (audit-record-codec lines)
 * as length-prefixed UTF-8 in a ring over a SharedArrayBuffer. The decision path writes a record's bytes and
 * moves the write counter; the writer thread reads from its own position, and moves the durable counters once
 * the records are in the database or the spool. Bytes between the durable and the write counter are kept: a
 * restarted writer thread reads again from the durable counter, so nothing that was not durable is lost.
 *
 * Nothing of a record stays on the decision thread's heap (the garbage collector would copy every line until it
 * is durable), and no message per batch is needed: the writer thread polls the write counter.
 *
 * Counters are uint32 and wrap; byte positions index the ring modulo its size (a power of two). Each record is
 * a uint32 length and its bytes, padded to 4 so a length never straddles the end of the ring.
 */

/** Control words (Int32Array indices). */
const WRITE_BYTES = 0;
const DURABLE_BYTES = 1;
const WRITE_RECORDS = 2;
const DURABLE_RECORDS = 3;
const CONTROL_BYTES = 64;
const MIN_RING_BYTES = 1 << 20;
const MAX_RING_BYTES = 1 << 30;

/** Ring bytes for a bound of `records`: about 256 bytes each (a decision's line is 250–400), a power of two. */
export function ringBytesFor(records: number): number {
  let bytes = MIN_RING_BYTES;
  while (bytes < records * 256 && bytes < MAX_RING_BYTES) bytes *= 2;
  return bytes;
}

export function createAuditRingBuffer(ringBytes: number): SharedArrayBuffer {
  if (ringBytes < 64 || (ringBytes & (ringBytes - 1)) !== 0) throw new Error(`audit ring size ${ringBytes} must be a power of two ≥ 64`);
  return new SharedArrayBuffer(CONTROL_BYTES + ringBytes);
}

interface RingView {
  readonly control: Int32Array;
  readonly data: Buffer;
  readonly size: number;
  readonly mask: number;
}

function view(shared: SharedArrayBuffer): RingView {
  const size = shared.byteLength - CONTROL_BYTES;
  return { control: new Int32Array(shared, 0, CONTROL_BYTES / 4), data: Buffer.from(shared, CONTROL_BYTES, size), size, mask: size - 1 };
}

const padded = (bytes: number) => (bytes + 3) & ~3;

/** The decision thread's end. */
export interface AuditRingWriter {
  /** False when the record's bytes do not fit next to what is not yet durable. */
  write(line: string): boolean;
  /** Records written and not yet durable. */
  readonly depth: number;
  /** Records made durable so far (modulo 2^32): it moves while the writer keeps up. */
  readonly durableRecords: number;
}

export function auditRingWriter(shared: SharedArrayBuffer): AuditRingWriter {
  const { control, data, size, mask } = view(shared);
  let scratch = Buffer.allocUnsafe(16 * 1024);
  return {
    write(line) {
      const write = Atomics.load(control, WRITE_BYTES) >>> 0;
      const free = size - ((write - (Atomics.load(control, DURABLE_BYTES) >>> 0)) >>> 0);
      const at = write & mask;
      const body = (at + 4) & mask;
      let length: number;
      if (line.length * 3 + 3 <= Math.min(free - 4, size - body)) {
        // Room for the worst case without wrapping: encode straight into the ring.
        length = data.write(line, body, "utf8");
      } else {
        length = Buffer.byteLength(line, "utf8");
        if (4 + padded(length) > free) return false;
        if (scratch.length < length) scratch = Buffer.allocUnsafe(length);
        scratch.write(line, 0, "utf8");
        const first = Math.min(length, size - body);
        scratch.copy(data, body, 0, first);
        if (first < length) scratch.copy(data, 0, first, length);
      }
      data.writeUInt32LE(length, at);
      // The counters are stored after the bytes: a reader that sees the new counter sees the record.
      Atomics.store(control, WRITE_BYTES, (write + 4 + padded(length)) | 0);
      Atomics.add(control, WRITE_RECORDS, 1);
      return true;
    },
    get depth() {
      return ((Atomics.load(control, WRITE_RECORDS) >>> 0) - (Atomics.load(control, DURABLE_RECORDS) >>> 0)) >>> 0;
    },
    get durableRecords() {
      return Atomics.load(control, DURABLE_RECORDS) >>> 0;
    },
  };
}

/** The writer thread's end. */
export interface AuditRingReader {
  /** Every record written since the last call (from the durable position, the first time), oldest first. */
  read(): string[];
  /** The oldest `records` read are durable: the decision thread may reuse their bytes. */
  durable(records: number): void;
  /**
   * Until the ring has been written round once: touches its pages up to `bytes` past the write position, so
   * that the decision thread writes to pages already mapped (see below).
   */
  prefault(bytes: number): void;
}

const PAGE_BYTES = 4096;

export function auditRingReader(shared: SharedArrayBuffer): AuditRingReader {
  const { control, data, mask, size } = view(shared);
  let read = Atomics.load(control, DURABLE_BYTES) >>> 0;
  /** Ring bytes (from the start) whose pages this reader has touched; `size` once the whole ring is mapped. */
  let faultedTo = 0;
  const words = new Int32Array(data.buffer, data.byteOffset, size / 4);
  /** Where each record read and not yet durable ends. */
  const ends: number[] = [];
  let endsHead = 0;
  return {
    read() {
      const end = Atomics.load(control, WRITE_BYTES) >>> 0;
      const lines: string[] = [];
      while (read !== end) {
        const at = read & mask;
        const length = data.readUInt32LE(at);
        const body = (at + 4) & mask;
        const first = Math.min(length, size - body);
        lines.push(
          first === length
            ? data.toString("utf8", body, body + length)
            : Buffer.concat([data.subarray(body, body + first), data.subarray(0, length - first)]).toString("utf8"),
        );
        read = (read + 4 + padded(length)) >>> 0;
        ends.push(read);
      }
      return lines;
    },
    prefault(bytes) {
      if (faultedTo >= size) return;
      // Past the first lap every page has been written: the write counter only grows until then (it wraps
      // at 2^32 bytes, long after).
      const written = Atomics.load(control, WRITE_BYTES) >>> 0;
      const to = Math.min(size, written + bytes);
      // The first write to a fresh page costs a page fault (about 11 µs on the VMs here), which the decision
      // thread would otherwise pay every ~16 records of the first lap. An atomic add of 0 writes without
      // changing anything, even where the decision thread is writing the same word meanwhile.
      for (let at = faultedTo; at < to; at += PAGE_BYTES) Atomics.add(words, at / 4, 0);
      faultedTo = Math.max(faultedTo, to);
    },
    durable(records) {
      if (records <= 0) return;
      endsHead += records;
      // Bytes before records: a writer thread killed in between leaves the record count behind (a depth too high
      // by a few records from then on), never a count that the next thread's reads would count twice.
      Atomics.store(control, DURABLE_BYTES, ends[endsHead - 1]! | 0);
      Atomics.add(control, DURABLE_RECORDS, records);
      if (endsHead >= 4096) {
        ends.splice(0, endsHead);
        endsHead = 0;
      }
    },
  };
}
