import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AnyHandler } from "../api/handler-middleware.js";
import type { CallContext } from "../api/call-context.js";

/**
 * Told once per call when it ends: the unary result (undefined for a stream or a failure) and the code
 * (Code 0 = OK; errors below the error-mapping middleware are already ConnectErrors).
 */
export type CallObserver = (result: unknown, code: Code | 0, error: unknown) => void;

/**
 * Calls `next` and reports its outcome without changing it. A synchronous result is observed at once (no
 * promise is added), a promise when it settles, a server stream when it ends or fails.
 */
export function observeCall(
  method: DescMethod,
  next: AnyHandler,
  request: never,
  context: CallContext,
  observe: CallObserver,
): unknown {
  let result: unknown;
  try {
    result = next(request, context);
  } catch (err) {
    observe(undefined, codeOf(err), err);
    throw err;
  }
  if (method.methodKind === "server_streaming") return observeStream(result as AsyncIterable<unknown>, observe);
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => {
        observe(value, 0, undefined);
        return value;
      },
      (err: unknown) => {
        observe(undefined, codeOf(err), err);
        throw err;
      },
    );
  }
  observe(result, 0, undefined);
  return result;
}

async function* observeStream(stream: AsyncIterable<unknown>, observe: CallObserver): AsyncIterable<unknown> {
  let outcome: "open" | "done" | "failed" = "open";
  try {
    yield* stream;
    outcome = "done";
  } catch (err) {
    outcome = "failed";
    observe(undefined, codeOf(err), err);
    throw err;
  } finally {
    // "open" here: the caller went away (the listener returned the iterator early).
    if (outcome !== "failed") observe(undefined, outcome === "done" ? 0 : Code.Canceled, undefined);
  }
}

export function codeOf(err: unknown): Code {
  if (err instanceof ConnectError) return err.code;
  return Code.Unknown;
}
