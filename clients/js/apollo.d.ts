import type { ApolloLink } from "@apollo/client";
import type { Session } from "./session.js";

export { createSession, type Session } from "./session.js";

/** An Apollo Link (Apollo Client 4) to put before the terminating link. */
export declare function sessionLink(session?: Session): ApolloLink & { readonly session: Session };
