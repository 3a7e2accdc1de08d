// A urql exchange for session consistency: each operation carries the session's position
// (the OrderGraph-Min-Position header for fetchExchange, `extensions.minPosition` for a
// subscriptionExchange), and each HTTP answer's OrderGraph-Position raises it.
"use strict";

const { makeOperation, mapExchange } = require("@urql/core");
const { MIN_POSITION_HEADER, POSITION_HEADER, createSession } = require("./session.cjs");

function withHeader(fetchOptions, position) {
  const options = (typeof fetchOptions === "function" ? fetchOptions() : fetchOptions) || {};
  const headers = new Headers(options.headers);
  headers.set(MIN_POSITION_HEADER, position);
  return { ...options, headers };
}

/** `fetch`, also raising the session with each answer's position (wrapped once, however
 * often an operation comes back through the exchange). */
function observing(fetch, session, wrapped) {
  if (wrapped.has(fetch)) return fetch;
  const observed = async (input, init) => {
    const response = await fetch(input, init);
    session.observe(response.headers.get(POSITION_HEADER));
    return response;
  };
  wrapped.add(observed);
  return observed;
}

/** An exchange to put before fetchExchange (and subscriptionExchange). */
function sessionExchange(session = createSession()) {
  const wrapped = new WeakSet();
  const exchange = mapExchange({
    onOperation(operation) {
      if (operation.kind === "teardown") return operation;
      const position = session.position;
      const minPosition = session.minPosition();
      const request =
        minPosition === null
          ? operation
          : { ...operation, extensions: { ...operation.extensions, minPosition } };
      const context = operation.context;
      return makeOperation(operation.kind, request, {
        fetchOptions:
          position === null ? context.fetchOptions : withHeader(context.fetchOptions, position),
        fetch: observing(context.fetch || globalThis.fetch, session, wrapped),
      });
    },
  });
  exchange.session = session;
  return exchange;
}

module.exports = { createSession, sessionExchange };
