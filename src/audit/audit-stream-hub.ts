import { UnavailableError } from "../domain/errors.js";
import type { AuditStore } from "../store/audit-store.js";
import type { AuditLogger } from "./audit-logger.js";
import type { AuditEntry } from "./audit-entry.js";
import type { AuditKind } from "./audit-record.js";

export interface AuditStreamFilter {
  /** Only these tenants' entries; undefined for every entry (catalog-wide ones included). */
  readonly tenantIds: ReadonlySet<string> | undefined;
  /** Only these kinds; empty for all. */
  readonly kinds: ReadonlySet<AuditKind>;
}

/**
 * Live audit entries for StreamAuditEvents. The hub tails the chain in the database (polling while anyone
 * listens, sooner when this replica just wrote), so a subscriber sees every replica's entries, in chain order,
 * each once: the entries appended after it subscribed.
 */
export interface AuditStreamHub {
  /** The entries after the current head that match, until `signal` aborts or the hub closes. */
  subscribe(filter: AuditStreamFilter, signal: AbortSignal): AsyncIterable<AuditEntry>;
  /** New entries are in the database: poll now. */
  nudge(): void;
  /** Ends every subscription cleanly (shutdown). */
  close(): void;
  readonly subscribers: number;
}

export interface AuditStreamHubOptions {
  readonly store: AuditStore;
  readonly logger: AuditLogger;
  /** @default 250 */
  readonly pollIntervalMs?: number;
  /** Entries a slow subscriber may have waiting before it is cut off (it may resume with ListAccessLogs). @default 10000 */
  readonly bufferLimit?: number;
}

interface Subscriber {
  readonly filter: AuditStreamFilter;
  readonly buffer: AuditEntry[];
  wake: (() => void) | undefined;
  overflowed: boolean;
}

const PAGE = 1000;

export function createAuditStreamHub(options: AuditStreamHubOptions): AuditStreamHub {
  const { store, logger } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const bufferLimit = options.bufferLimit ?? 10_000;
  const subscribers = new Set<Subscriber>();
  let cursor: Promise<number> | undefined;
  let lastSeq = 0;
  let polling = false;
  let closed = false;
  let wakePoller: (() => void) | undefined;

  const notify = (subscriber: Subscriber) => {
    const wake = subscriber.wake;
    subscriber.wake = undefined;
    wake?.();
  };

  async function poll(): Promise<void> {
    polling = true;
    let failing = false;
    try {
      while (subscribers.size > 0 && !closed) {
        let entries: AuditEntry[] = [];
        try {
          entries = await store.readAuditEntries(lastSeq + 1, Number.MAX_SAFE_INTEGER, PAGE);
          failing = false;
        } catch (err) {
          if (!failing) logger.warn({ err }, "audit stream cannot read the chain; retrying");
          failing = true;
        }
        for (const entry of entries) {
          for (const subscriber of subscribers) {
            if (!matches(subscriber.filter, entry)) continue;
            if (subscriber.buffer.length >= bufferLimit) subscriber.overflowed = true;
            else subscriber.buffer.push(entry);
            notify(subscriber);
          }
        }
        if (entries.length > 0) lastSeq = entries[entries.length - 1]!.seq;
        if (entries.length < PAGE) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollIntervalMs);
            wakePoller = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wakePoller = undefined;
        }
      }
    } finally {
      polling = false;
      cursor = undefined;
    }
  }

  async function* subscribe(filter: AuditStreamFilter, signal: AbortSignal): AsyncGenerator<AuditEntry> {
    if (closed || signal.aborted) return;
    const subscriber: Subscriber = { filter, buffer: [], wake: undefined, overflowed: false };
    // The first subscriber fixes where the tail starts: the head now. Later ones join the running tail.
    if (!polling) {
      cursor ??= store.auditChainHead().then((head) => head.seq);
      try {
        lastSeq = await cursor;
      } catch (err) {
        cursor = undefined;
        throw new UnavailableError(`the audit log cannot be read: ${(err as Error).message}`, { cause: err });
      }
    }
    subscribers.add(subscriber);
    if (!polling) void poll();
    const onAbort = () => notify(subscriber);
    signal.addEventListener("abort", onAbort);
    try {
      let next = 0;
      for (;;) {
        if (closed || signal.aborted) return;
        if (next < subscriber.buffer.length) {
          const entry = subscriber.buffer[next++]!;
          if (next >= 256) {
            subscriber.buffer.splice(0, next);
            next = 0;
          }
          yield entry;
          continue;
        }
        subscriber.buffer.length = 0;
        next = 0;
        if (subscriber.overflowed) {
          throw new UnavailableError(
            `the audit stream fell more than ${bufferLimit} entries behind and was ended; resume from the last seq received with ListAccessLogs or VerifyAuditChain`,
          );
        }
        await new Promise<void>((resolve) => (subscriber.wake = resolve));
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      subscribers.delete(subscriber);
    }
  }

  return {
    subscribe,
    nudge() {
      wakePoller?.();
    },
    close() {
      closed = true;
      wakePoller?.();
      for (const subscriber of subscribers) notify(subscriber);
    },
    get subscribers() {
      return subscribers.size;
    },
  };
}

function matches(filter: AuditStreamFilter, entry: AuditEntry): boolean {
  if (filter.tenantIds !== undefined && !filter.tenantIds.has(entry.tenantId)) return false;
  return filter.kinds.size === 0 || filter.kinds.has(entry.kind);
}
