// Apollo Client 4 with its plain HttpLink (multipart subscriptions, Node's own fetch) against
// /graphql, for tests/graph/http/test_interop_http_subscriptions.py.
// Usage: node apollo_http_subscriptions.cjs URL ORDER_ID AFTER
"use strict";

const { ApolloClient, HttpLink, InMemoryCache, gql } = require("@apollo/client");
const { command, emit, run } = require("./harness.cjs");

const ORDER_UPDATED = gql`
  subscription Watch($id: ID!, $after: Position) {
    orderUpdated(id: $id, afterPosition: $after) { id status version position }
  }
`;
const ORDERS_CHANGED = gql`
  subscription Orders($after: Position) { ordersChanged(afterPosition: $after) { id status position } }
`;

/** What a result says, as plain JSON: its data, and its error's GraphQL errors if any. */
function plain(result) {
  const error = result.error;
  return {
    data: result.data === undefined ? null : result.data,
    errors: error ? (error.errors || [{ message: String(error) }]) : [],
  };
}

run(async () => {
  const [url, orderId, after] = process.argv.slice(2);
  const client = new ApolloClient({ cache: new InMemoryCache(), link: new HttpLink({ uri: url }) });

  // A subscription the server ends (the order does not exist): its error, then complete.
  const missing = await new Promise((resolve, reject) => {
    const seen = [];
    client
      .subscribe({ query: ORDER_UPDATED, variables: { id: "no-such-order", after: 0 } })
      .subscribe({
        next: (result) => seen.push(plain(result)),
        error: (error) => reject(error),
        complete: () => resolve(seen),
      });
  });
  emit("missing", { results: missing });

  // The first result of each subscription, emitted together once both have one.
  const first = {};
  const record = (kind) => (result) => {
    if (kind in first) return;
    first[kind] = plain(result);
    if (first.order && first.list) emit("changes", first);
  };
  const failed = (error) => emit("failed", { message: String(error) });
  const order = client
    .subscribe({ query: ORDER_UPDATED, variables: { id: orderId, after: Number(after) } })
    .subscribe({ next: record("order"), error: failed });
  const list = client
    .subscribe({ query: ORDERS_CHANGED, variables: { after: Number(after) } })
    .subscribe({ next: record("list"), error: failed });
  emit("subscribed");
  await command("stop");
  order.unsubscribe();
  list.unsubscribe();
  emit("done");
});
