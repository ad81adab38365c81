import { Redis, type RedisOptions } from "ioredis";
import type { ChangeBus, ChangeEvent } from "./change-bus.js";

export interface RedisBusLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RedisBusOptions {
  /** redis:// or rediss:// (user and password may be in it; never logged). */
  readonly url: string;
  /** The pub/sub channel every replica of a deployment shares. */
  readonly channel: string;
  readonly logger: RedisBusLogger;
  /** A publish that has no answer after this long fails (a half-open connection). @default 1000 */
  readonly publishTimeoutMs?: number;
  /** Most time between two reconnection attempts. @default 2000 */
  readonly maxReconnectDelayMs?: number;
}

/**
 * Redis pub/sub as the change bus: one connection publishes, one subscribes. Both reconnect on their own, forever,
 * with a capped backoff. Publishing never queues while disconnected (it fails at once and the outbox relay
 * publishes later), and the subscriber subscribes again itself on every reconnect before telling `onConnected`
 * listeners, so their catch-up from the store starts only once new events are flowing again.
 */
export function createRedisBus(options: RedisBusOptions): ChangeBus {
  const { channel, logger } = options;
  const location = redisLocation(options.url);
  const listeners = new Set<(event: ChangeEvent) => void>();
  const connectedListeners = new Set<() => void>();
  let publisher: Redis | undefined;
  let subscriber: Redis | undefined;
  let publisherReady = false;
  let subscribed = false;
  let down = false; // an outage was logged; the next connect logs the recovery
  let closed = false;

  const common: RedisOptions = {
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), options.maxReconnectDelayMs ?? 2_000),
    // Connection errors are expected during an outage; they are reported once through the logger.
    showFriendlyErrorStack: false,
  };

  const notifyConnected = () => {
    const connected = publisherReady && subscribed;
    if (connected && down) logger.info({ redis: location }, "change bus reconnected to Redis; catching up");
    if (connected) down = false;
    for (const listener of connectedListeners) listener();
  };
  const lost = (which: string, err?: unknown) => {
    if (closed || down) return;
    down = true;
    logger.warn(
      { redis: location, connection: which, err: err instanceof Error ? err.message : undefined },
      "change bus lost Redis: decisions go on from the current snapshot, publishes are left to the outbox relay",
    );
  };

  const onMessage = (from: string, message: string) => {
    if (from !== channel) return;
    const event = parseEvent(message);
    if (event === undefined) {
      logger.warn({ redis: location, channel }, "ignored a malformed change event");
      return;
    }
    for (const listener of listeners) listener(event);
  };

  return {
    async start() {
      if (publisher !== undefined) return;
      publisher = new Redis(options.url, {
        ...common,
        connectionName: "residency-publisher",
        enableOfflineQueue: false,
        commandTimeout: options.publishTimeoutMs ?? 1_000,
        maxRetriesPerRequest: 1,
      });
      subscriber = new Redis(options.url, {
        ...common,
        connectionName: "residency-subscriber",
        autoResubscribe: false, // subscribed again below, so listeners hear of the reconnect only once it took effect
        maxRetriesPerRequest: null,
      });
      const sub = subscriber;
      publisher.on("ready", () => {
        publisherReady = true;
        notifyConnected();
      });
      publisher.on("close", () => {
        publisherReady = false;
        lost("publisher");
      });
      publisher.on("error", (err: unknown) => lost("publisher", err));
      sub.on("message", onMessage);
      sub.on("ready", () => {
        sub.subscribe(channel).then(
          () => {
            subscribed = true;
            notifyConnected();
          },
          (err: unknown) => lost("subscriber", err), // the connection dropped again; the next "ready" retries
        );
      });
      sub.on("close", () => {
        subscribed = false;
        lost("subscriber");
      });
      sub.on("error", (err: unknown) => lost("subscriber", err));
    },

    async publish(event) {
      if (publisher === undefined) throw new Error("the Redis change bus is not started");
      await publisher.publish(channel, JSON.stringify({ version: event.version, kind: event.kind, ids: event.ids }));
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    onConnected(listener) {
      connectedListeners.add(listener);
      return () => connectedListeners.delete(listener);
    },

    get connected() {
      return publisherReady && subscribed;
    },

    async close() {
      closed = true;
      listeners.clear();
      connectedListeners.clear();
      // disconnect(), not quit(): quit would wait for a server that may be gone.
      publisher?.disconnect();
      subscriber?.disconnect();
      publisherReady = false;
      subscribed = false;
    },
  };
}

function parseEvent(message: string): ChangeEvent | undefined {
  try {
    const value = JSON.parse(message) as { version?: unknown; kind?: unknown; ids?: unknown };
    if (!Number.isSafeInteger(value.version) || (value.version as number) < 0) return undefined;
    if (typeof value.kind !== "string" || !Array.isArray(value.ids) || !value.ids.every((id) => typeof id === "string")) {
      return undefined;
    }
    return { version: value.version as number, kind: value.kind, ids: value.ids as string[] };
  } catch {
    return undefined;
  }
}

/** host:port/db for messages: never the password. */
export function redisLocation(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "6379"}${parsed.pathname.length > 1 ? parsed.pathname : ""}`;
  } catch {
    return "redis (unparsable URL)";
  }
}
