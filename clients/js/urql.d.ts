import type { Exchange } from "@urql/core";
import type { Session } from "./session.js";

export { createSession, type Session } from "./session.js";

/** A urql exchange to put before fetchExchange and subscriptionExchange. */
export declare function sessionExchange(session?: Session): Exchange & { readonly session: Session };
