import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("telemetry configuration", () => {
  it("serves metrics on 8001 and leaves tracing off when nothing is configured", () => {
    const config = loadConfig({});
    expect(config.metricsPort).toBe(8001);
    expect(config.tracing).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: "0" }).metricsPort).toBe(0);
  });

  it("turns tracing on with an OTLP endpoint, appending /v1/traces to the base endpoint", () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }).tracing).toEqual({
      exporters: ["otlp"],
      otlpTracesUrl: "http://collector:4318/v1/traces",
      serviceName: "residency",
      resourceAttributes: {},
    });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://otel.example/custom" }).tracing?.otlpTracesUrl).toBe(
      "https://otel.example/custom",
    );
  });

  it("follows OTEL_TRACES_EXPORTER, OTEL_SDK_DISABLED, the service name and resource attributes", () => {
    expect(loadConfig({ OTEL_TRACES_EXPORTER: "otlp" }).tracing?.otlpTracesUrl).toBe("http://localhost:4318/v1/traces");
    expect(loadConfig({ OTEL_TRACES_EXPORTER: "console" }).tracing?.exporters).toEqual(["console"]);
    expect(loadConfig({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }).tracing).toBeUndefined();
    const tracing = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
      OTEL_SERVICE_NAME: "residency-eu",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=prod,team=data%20platform",
    }).tracing;
    expect(tracing?.serviceName).toBe("residency-eu");
    expect(tracing?.resourceAttributes).toEqual({ "deployment.environment.name": "prod", team: "data platform" });
  });

  it("reports bad telemetry variables by name", () => {
    try {
      loadConfig({
        METRICS_PORT: "8000",
        PORT: "8000",
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318",
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_RESOURCE_ATTRIBUTES: "novalue",
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).problems.join("\n");
      for (const name of ["METRICS_PORT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_RESOURCE_ATTRIBUTES"]) {
        expect(text).toContain(name);
      }
    }
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: "jaeger" })).toThrow(/OTEL_TRACES_EXPORTER/);
  });
});
