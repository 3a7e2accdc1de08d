// An Apollo Link (Apollo Client 4) for session consistency: each operation carries the
// session's position (the OrderGraph-Min-Position header over HTTP, `extensions.minPosition`
// for a WebSocket link), and each HTTP answer's OrderGraph-Position raises it.
"use strict";

const { ApolloLink } = require("@apollo/client");
const { tap } = require("rxjs");
const { MIN_POSITION_HEADER, POSITION_HEADER, createSession } = require("./session.cjs");

/** A link to put before the terminating link (HttpLink, GraphQLWsLink, a split of both). */
function sessionLink(session = createSession()) {
  const link = new ApolloLink((operation, forward) => {
    const position = session.position;
    if (position !== null) {
      operation.setContext(({ headers = {} }) => ({
        headers: { ...headers, [MIN_POSITION_HEADER]: position },
      }));
      const minPosition = session.minPosition();
      if (minPosition !== null) {
        operation.extensions = { ...operation.extensions, minPosition };
      }
    }
    return forward(operation).pipe(
      tap(() => {
        const { response } = operation.getContext();
        if (response && response.headers) session.observe(response.headers.get(POSITION_HEADER));
      }),
    );
  });
  link.session = session;
  return link;
}

module.exports = { createSession, sessionLink };
