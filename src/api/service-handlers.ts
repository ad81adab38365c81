import type {
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { CallContext } from "./call-context.js";

export type UnaryHandler<I extends DescMethodUnary["input"], O extends DescMethodUnary["output"]> = (
  request: MessageShape<I>,
  context: CallContext,
) => Promise<MessageInitShape<O>> | MessageInitShape<O>;

export type ServerStreamingHandler<
  I extends DescMethodServerStreaming["input"],
  O extends DescMethodServerStreaming["output"],
> = (request: MessageShape<I>, context: CallContext) => AsyncIterable<MessageInitShape<O>>;

export type MethodHandler<M> =
  M extends DescMethodUnary<infer I, infer O>
    ? UnaryHandler<I, O>
    : M extends DescMethodServerStreaming<infer I, infer O>
      ? ServerStreamingHandler<I, O>
      : never;

/**
 * A service's handlers, written once and served by both listeners. A method left out answers
 * UNIMPLEMENTED on both.
 */
export type ServiceHandlers<S extends DescService> = {
  [P in keyof S["method"]]?: MethodHandler<S["method"][P]>;
};

/** One service and its handlers, as handed to the listeners by the composition root. */
export interface ServiceRegistration {
  readonly service: DescService;
  // Erased here: each registration is built through `registration()`, which checks the handler types.
  readonly handlers: Readonly<Record<string, (request: never, context: CallContext) => unknown>>;
}

export function registration<S extends DescService>(
  service: S,
  handlers: ServiceHandlers<S>,
): ServiceRegistration {
  return { service, handlers: handlers as ServiceRegistration["handlers"] };
}
