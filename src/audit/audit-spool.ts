import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { AuditEntryContent } from "./audit-entry.js";

/** A run of spooled lines read back for replay. */
export interface SpoolChunk {
  readonly segment: string;
  /** Records of the segment before this chunk (unreadable lines are not counted). */
  readonly fromLine: number;
  readonly contents: AuditEntryContent[];
  /** Byte offset just after the chunk's last line. */
  readonly endOffset: number;
}

/**
 * The local, append-only spool that holds audit contents while the database is unavailable: JSON lines in
 * segment files, fsynced per batch, replayed in order once the database is back. A segment is named
 * `<epoch ms>-<counter>-<pid>-<random>.jsonl`; a process replays its own segments and those of processes that
 * are gone (a previous run, a crashed replica sharing the directory), never those of a live process.
 */
export interface AuditSpool {
  /** Creates the directory and adopts the segments left by processes that are gone. */
  open(): Promise<void>;
  /** True while some spooled line is not replayed yet: new contents must then go to the spool too, to keep order. */
  readonly backlog: boolean;
  /** Appends contents as lines and fsyncs them before resolving. */
  append(contents: readonly AuditEntryContent[]): Promise<void>;
  /** The oldest lines not yet replayed, at most `max`; undefined when there are none. */
  next(max: number): Promise<SpoolChunk | undefined>;
  /** The chunk is in the chain: move past it (a fully replayed segment is deleted). */
  replayed(chunk: SpoolChunk): void;
  close(): Promise<void>;
}

export interface AuditSpoolOptions {
  readonly dir: string;
  /** A new segment starts when the current one reaches this size. @default 64 MiB */
  readonly maxSegmentBytes?: number;
  /** Where a line that cannot be read back is reported (it is skipped). */
  readonly onCorruptLine?: (segment: string, line: number, problem: string) => void;
}

interface Segment {
  readonly name: string;
  /** Bytes and records replayed. */
  offset: number;
  line: number;
  /** Open for appending: the segment this process writes to. */
  writer: FileHandle | undefined;
  /** Bytes written (the writable segment); undefined for adopted ones (read to the end of the file). */
  size: number | undefined;
}

const SEGMENT_NAME = /^(\d{15})-(\d{6})-(\d+)-([0-9a-f]+)\.jsonl$/;
const READ_BYTES = 1 << 20;

export function createAuditSpool(options: AuditSpoolOptions): AuditSpool {
  const { dir } = options;
  const maxSegmentBytes = options.maxSegmentBytes ?? 64 * 1024 * 1024;
  const segments: Segment[] = [];
  let counter = 0;
  let writable: Segment | undefined;

  const pathOf = (segment: Segment) => join(dir, segment.name);

  async function newSegment(): Promise<Segment> {
    const name = `${String(Date.now()).padStart(15, "0")}-${String(counter++ % 1e6).padStart(6, "0")}-${process.pid}-${randomBytes(4).toString("hex")}.jsonl`;
    const segment: Segment = { name, offset: 0, line: 0, writer: undefined, size: 0 };
    segment.writer = await open(pathOf(segment), "a");
    // The new file's directory entry must survive a crash too.
    await syncDirectory(dir);
    segments.push(segment);
    return segment;
  }

  async function retire(segment: Segment): Promise<void> {
    segments.splice(segments.indexOf(segment), 1);
    if (segment === writable) writable = undefined;
    await segment.writer?.close().catch(() => undefined);
    segment.writer = undefined;
    await unlink(pathOf(segment)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }

  return {
    async open() {
      await mkdir(dir, { recursive: true });
      const names = (await readdir(dir)).filter((name) => SEGMENT_NAME.test(name)).sort();
      for (const name of names) {
        const pid = Number(SEGMENT_NAME.exec(name)![3]);
        if (pid !== process.pid && processAlive(pid)) continue;
        if (segments.some((s) => s.name === name)) continue;
        segments.push({ name, offset: 0, line: 0, writer: undefined, size: undefined });
      }
    },

    get backlog() {
      return segments.length > 0;
    },

    async append(contents) {
      if (contents.length === 0) return;
      if (writable === undefined || (writable.size ?? 0) >= maxSegmentBytes) {
        await writable?.writer?.close();
        if (writable) writable.writer = undefined;
        writable = await newSegment();
      }
      let text = "";
      for (const content of contents) text += `${JSON.stringify(content)}\n`;
      const bytes = Buffer.from(text, "utf8");
      const segment = writable;
      let written = 0;
      while (written < bytes.length) {
        const { bytesWritten } = await segment.writer!.write(bytes, written, bytes.length - written);
        written += bytesWritten;
      }
      await segment.writer!.datasync();
      segment.size = (segment.size ?? 0) + bytes.length;
    },

    async next(max) {
      while (segments.length > 0) {
        const segment = segments[0]!;
        const chunk = await readChunk(segment, max);
        if (chunk !== undefined) return chunk;
        // Nothing left to replay in it; the writable one ends here too (the next outage starts a new one).
        await retire(segment);
      }
      return undefined;
    },

    replayed(chunk) {
      const segment = segments.find((s) => s.name === chunk.segment);
      if (segment === undefined) return;
      segment.offset = chunk.endOffset;
      segment.line = chunk.fromLine + chunk.contents.length;
    },

    async close() {
      for (const segment of segments) {
        await segment.writer?.close().catch(() => undefined);
        segment.writer = undefined;
      }
      writable = undefined;
    },
  };

  async function readChunk(segment: Segment, max: number): Promise<SpoolChunk | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(pathOf(segment), "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined; // another process finished it
      throw err;
    }
    try {
      const end = segment.size ?? (await handle.stat()).size;
      const contents: AuditEntryContent[] = [];
      let offset = segment.offset;
      let line = segment.line;
      let size = READ_BYTES;
      while (contents.length < max && offset < end) {
        const length = Math.min(size, end - offset);
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        const lastNewline = buffer.subarray(0, bytesRead).lastIndexOf(0x0a);
        if (lastNewline < 0) {
          if (offset + bytesRead >= end) {
            // A line cut short by a crash while it was written: it was never complete, never fsynced as a batch.
            options.onCorruptLine?.(segment.name, line, "incomplete last line ignored");
            offset = end;
            break;
          }
          size *= 2; // a line longer than the buffer
          continue;
        }
        let start = 0;
        while (contents.length < max) {
          const newline = buffer.indexOf(0x0a, start);
          if (newline < 0 || newline > lastNewline) break;
          const text = buffer.toString("utf8", start, newline);
          start = newline + 1;
          try {
            contents.push(JSON.parse(text) as AuditEntryContent);
            line++;
          } catch (err) {
            options.onCorruptLine?.(segment.name, line, (err as Error).message);
          }
        }
        offset += start;
      }
      if (offset === segment.offset) return undefined;
      const chunk = { segment: segment.name, fromLine: segment.line, contents, endOffset: offset };
      // Corrupt lines only: nothing to append, but move past them.
      if (contents.length === 0) {
        segment.offset = offset;
        segment.line = line;
        return readChunk(segment, max);
      }
      return chunk;
    } finally {
      await handle.close();
    }
  }
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // Some platforms cannot fsync a directory; the file's own fsync still holds its content.
  } finally {
    await handle?.close();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
