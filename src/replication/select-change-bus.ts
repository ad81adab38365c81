import type { ChangeBus } from "../bus/change-bus.js";
import { createInProcessBus } from "../bus/in-process-bus.js";
import { createRedisBus, type RedisBusLogger } from "../bus/redis-bus.js";
import type { Config } from "../config.js";

export type BusKind = "redis" | "in-process";

/** REDIS_URL selects Redis pub/sub on REDIS_CHANNEL; otherwise the in-process bus (one replica). */
export function selectChangeBus(config: Pick<Config, "redisUrl" | "redisChannel">, logger: RedisBusLogger): { bus: ChangeBus; kind: BusKind } {
  if (config.redisUrl !== undefined) {
    return { bus: createRedisBus({ url: config.redisUrl, channel: config.redisChannel, logger }), kind: "redis" };
  }
  return { bus: createInProcessBus(), kind: "in-process" };
}
