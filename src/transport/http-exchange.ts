import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";

type NodeHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;

/** A request from node:http or node:http2 (compat API), as connect-node accepts it (not exported there). */
export type HttpRequest = Parameters<NodeHandler>[0];
/** The matching response. */
export type HttpResponse = Parameters<NodeHandler>[1];
