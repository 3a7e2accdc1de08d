// The graphql-sse client (createClient in its default "distinct connections" mode, Node's own
// fetch) against /graphql, for tests/graph/http/test_interop_http_subscriptions.py.
// Usage: node graphql_sse_client.cjs URL ORDER_ID AFTER [TOKEN]
"use strict";

const { createClient } = require("graphql-sse");
const { command, emit, run } = require("./harness.cjs");

const ORDER_UPDATED = `subscription($id: ID!, $after: Position) {
  orderUpdated(id: $id, afterPosition: $after) { id status version position } }`;

/** Every result of one operation, until the stream completes. */
async function all(client, request) {
  const results = [];
  for await (const result of client.iterate(request)) results.push(result);
  return results;
}

run(async () => {
  const [url, orderId, after, token] = process.argv.slice(2);
  const client = createClient({
    url,
    retryAttempts: 0,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  emit("query", { results: await all(client, { query: "{ __typename }" }) });
  emit("missing", {
    results: await all(client, {
      query: ORDER_UPDATED,
      variables: { id: "no-such-order", after: 0 },
    }),
  });

  let stop;
  const completed = new Promise((resolve, reject) => {
    stop = client.subscribe(
      { query: ORDER_UPDATED, variables: { id: orderId, after: Number(after) } },
      {
        next: (value) => emit("next", { value }),
        error: (error) => reject(new Error(`subscription error: ${error}`)),
        complete: resolve,
      },
    );
  });
  emit("subscribed");
  await command("stop");
  stop();
  await completed;
  client.dispose();
  emit("done");
});
