import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("loadConfig", () => {
  it("has the documented defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8000, grpcPort: 50051, dataDir: "./data", logLevel: "info", corsAllowedOrigins: ["*"] });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.defaultRegion).toBeUndefined();
  });

  it("reports every bad variable at once, by name", () => {
    try {
      loadConfig({ PORT: "eighty", GRPC_PORT: "70000", LOG_LEVEL: "loud", DEBUG: "maybe", DATABASE_URL: "mysql://x" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).problems.join("\n");
      for (const name of ["PORT", "GRPC_PORT", "LOG_LEVEL", "DEBUG", "DATABASE_URL"]) expect(text).toContain(name);
    }
  });

  it("accepts the seed's postgresql+asyncpg:// spelling and DEBUG=true", () => {
    const config = loadConfig({ DATABASE_URL: "postgresql+asyncpg://u:p@h:5432/db", DEBUG: "true" });
    expect(config.databaseUrl).toBe("postgresql+asyncpg://u:p@h:5432/db");
    expect(config.logLevel).toBe("debug");
  });

  it("refuses the same port for both listeners", () => {
    expect(() => loadConfig({ PORT: "9000", GRPC_PORT: "9000" })).toThrow(/GRPC_PORT/);
  });
});
