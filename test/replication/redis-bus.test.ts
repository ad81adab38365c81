import { Redis } from "ioredis";
import { afterEach, expect, it } from "vitest";
import type { ChangeBus, ChangeEvent } from "../../src/bus/change-bus.js";
import { createRedisBus } from "../../src/bus/redis-bus.js";
import { startPrivateRedis, type PrivateRedis } from "./private-redis.js";
import { testChannel, until } from "./replication-fixture.js";

const buses: ChangeBus[] = [];
let redis: PrivateRedis | undefined;
const warnings: string[] = [];
const logger = { info() {}, warn: (_o: object, msg: string) => void warnings.push(msg) };
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
  await redis?.stop();
  redis = undefined;
});

it("carries events between buses, ignores malformed messages, fails publishes fast while down, and reconnects", async () => {
  redis = await startPrivateRedis();
  const channel = testChannel();
  const make = async () => {
    const bus = createRedisBus({ url: redis!.url, channel, logger });
    buses.push(bus);
    await bus.start();
    return bus;
  };
  const [a, b] = [await make(), await make()];
  const heard: ChangeEvent[] = [];
  let reconnects = 0;
  b.subscribe((e) => heard.push(e));
  b.onConnected(() => reconnects++);
  await until(() => a.connected && b.connected, "both connected");

  const raw = new Redis(redis.url);
  await raw.publish(channel, "not json");
  await raw.publish(channel, JSON.stringify({ version: "7", kind: "policy", ids: [] }));
  raw.disconnect();
  await a.publish({ version: 3, kind: "policy", ids: ["p1"] });
  await until(() => heard.length > 0, "b heard the event");
  expect(heard).toEqual([{ version: 3, kind: "policy", ids: ["p1"] }]);
  expect(warnings.filter((w) => w === "ignored a malformed change event")).toHaveLength(4); // two messages, two subscribers

  await redis.stop();
  await until(() => !a.connected && !b.connected, "both noticed");
  // Refused because nothing is queued while disconnected, not left to the publish timeout.
  await expect(a.publish({ version: 4, kind: "policy", ids: [] })).rejects.toThrow(/enableOfflineQueue/);

  const before = reconnects;
  await redis.start();
  await until(() => a.connected && b.connected && reconnects > before, "both reconnected and resubscribed", 15_000);
  await a.publish({ version: 5, kind: "policy", ids: ["p2"] });
  await until(() => heard.length === 2, "b heard the event after the reconnect");
  expect(heard[1]?.version).toBe(5);
});
