import { cors } from "@connectrpc/connect";
import type { HttpRequest, HttpResponse } from "./http-exchange.js";

const allowMethods = cors.allowedMethods.join(", ");
const allowHeaders = [...cors.allowedHeaders, "Authorization", "X-Request-Id", "X-Region"].join(", ");
const exposeHeaders = [...cors.exposedHeaders, "X-Request-Id"].join(", ");
/** Browsers may reuse a preflight answer this long (Chromium caps it at 2 hours). */
const maxAgeSeconds = "7200";

/**
 * CORS for browser clients (gRPC-Web and Connect). Returns true when it answered the request itself
 * (a preflight); otherwise it only adds headers and the request goes on. An allowed origin is echoed
 * rather than answered with "*", so that "*" in the configuration still works with credentials.
 */
export function createCorsHandler(
  allowedOrigins: readonly string[],
): (req: HttpRequest, res: HttpResponse) => boolean {
  const anyOrigin = allowedOrigins.includes("*");
  const origins = new Set(allowedOrigins);
  return (req, res) => {
    const origin = req.headers.origin;
    if (typeof origin !== "string" || allowedOrigins.length === 0) return false;
    // The answer depends on Origin, so caches must key on it, allowed or not.
    res.setHeader("Vary", "Origin");
    const allowed = anyOrigin || origins.has(origin);
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (preflight) {
      if (allowed) {
        res.setHeader("Access-Control-Allow-Origin", origin);
        res.setHeader("Access-Control-Allow-Methods", allowMethods);
        res.setHeader("Access-Control-Allow-Headers", allowHeaders);
        res.setHeader("Access-Control-Max-Age", maxAgeSeconds);
      }
      // Without the allow headers the browser refuses the real request; 403 says why to a human.
      res.statusCode = allowed ? 204 : 403;
      res.end();
      return true;
    }
    if (allowed) {
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Access-Control-Expose-Headers", exposeHeaders);
    }
    return false;
  };
}
