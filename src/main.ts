// Entry point: `npm start`. Builds the app from the environment and stops it cleanly on SIGTERM/SIGINT.
import { ConfigError, loadConfig } from "./config.js";
import { RegionCatalogError } from "./catalog/load-region-catalog.js";
import { createApp } from "./server.js";

async function main(): Promise<void> {
  const app = await createApp(loadConfig());
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, "shutting down: finishing in-flight calls");
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  await app.start();
}

main().catch((err: unknown) => {
  // Configuration mistakes get their own message, not a stack trace.
  if (err instanceof ConfigError || err instanceof RegionCatalogError) console.error(err.message);
  else console.error("residency failed to start:", err);
  process.exit(1);
});
