// The reference graphql-ws client subscribing to orderUpdated on an order it may not follow:
// which callbacks fire, in which order (for tests/graph/api/test_order_updated_not_found.py).
"use strict";

const { createClient } = require("graphql-ws");
const WebSocket = require("ws");
const { emit, run } = require("./harness.cjs");

const ORDER_UPDATED = `subscription($id: ID!) { orderUpdated(id: $id) { id status } }`;

run(async () => {
  const [url, orderId, token] = process.argv.slice(2);
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
  });
  const calls = [];
  await new Promise((resolve) => {
    client.subscribe(
      { query: ORDER_UPDATED, variables: { id: orderId } },
      {
        next: (value) => calls.push({ next: value }),
        error: (error) => {
          calls.push({ error });
          resolve();
        },
        complete: () => {
          calls.push({ complete: true });
          resolve();
        },
      },
    );
  });
  await client.dispose();
  emit("ended", { calls });
});
