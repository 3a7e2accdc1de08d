// The reference graphql-ws client (createClient, with the `ws` package as Node 20 has no global
// WebSocket) subscribing to orderUpdated, for tests/test_interop_graphql_ws.py.
"use strict";

const { createClient } = require("graphql-ws");
const WebSocket = require("ws");
const { command, emit, run } = require("./harness.cjs");

const ORDER_UPDATED = `subscription($id: ID!, $after: Position) {
  orderUpdated(id: $id, afterPosition: $after) { id status version position } }`;
const UNKNOWN_PROJECTION = `subscription { projectionUpdated(name: "nope") { name } }`;

run(async () => {
  const [url, orderId, after] = process.argv.slice(2);
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    on: { connected: () => emit("connected") },
  });
  // A refused subscription ends with its errors, sent as `error` or as `next` then `complete`.
  const refused = new Promise((resolve) => {
    const errors = [];
    client.subscribe(
      { query: UNKNOWN_PROJECTION },
      {
        next: (value) => errors.push(...(value.errors || [])),
        error: (sent) => resolve([...errors, ...sent]),
        complete: () => resolve(errors),
      },
    );
  });
  emit("refused", { errors: await refused });

  let stop;
  const completed = new Promise((resolve, reject) => {
    stop = client.subscribe(
      { query: ORDER_UPDATED, variables: { id: orderId, after: Number(after) } },
      {
        next: (value) => emit("next", { value }),
        error: (error) => reject(new Error(`subscription error: ${JSON.stringify(error)}`)),
        complete: resolve,
      },
    );
  });
  await command("stop");
  stop();
  await completed;
  await client.dispose();
  emit("done");
});
