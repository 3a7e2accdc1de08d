// Apollo Client 4 with its PersistedQueryLink against the service.
// Usage: node apollo_persisted.cjs URL post|get
// Places an order (a mutation, always POST), then reads it twice; prints one JSON line per step
// with what went over the wire: {"event": ..., "requests": [{method, hashOnly, status}], ...}.
"use strict";

const crypto = require("node:crypto");
const { ApolloClient, HttpLink, InMemoryCache, gql } = require("@apollo/client");
const { PersistedQueryLink } = require("@apollo/client/link/persisted-queries");

const [url, mode] = process.argv.slice(2);
let requests = [];

async function recordingFetch(input, init) {
  const method = (init && init.method) || "GET";
  let hashOnly;
  if (method === "GET") {
    hashOnly = !new URL(String(input)).searchParams.has("query");
  } else {
    hashOnly = !("query" in JSON.parse(init.body));
  }
  const response = await fetch(input, init);
  requests.push({ method, hashOnly, status: response.status });
  return response;
}

const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: new PersistedQueryLink({
    sha256: (text) => crypto.createHash("sha256").update(text).digest("hex"),
    useGETForHashedQueries: mode === "get",
  }).concat(new HttpLink({ uri: url, fetch: recordingFetch })),
});

const CREATE = gql`
  mutation Create($input: CreateOrderInput!) {
    createOrder(input: $input) { orderId position order { id status totalAmount } }
  }
`;
const READ = gql`
  query Read($id: ID!) { order(id: $id) { id status totalAmount } }
`;

function step(event, extra) {
  process.stdout.write(JSON.stringify({ event, requests, ...extra }) + "\n");
  requests = [];
}

async function main() {
  const created = await client.mutate({
    mutation: CREATE,
    variables: {
      input: {
        customerId: "apollo",
        items: [{ sku: "KB-MECH-87", quantity: 1, unitPrice: "89.00" }],
        shippingAddress: {
          name: "Ada", line1: "1 Way", city: "London", postalCode: "N1", country: "GB",
        },
      },
    },
  });
  const order = created.data.createOrder;
  step("created", { order: order.order });
  for (const event of ["read", "read again"]) {
    const read = await client.query({
      query: READ, variables: { id: order.orderId }, fetchPolicy: "network-only",
    });
    step(event, { order: read.data.order });
  }
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
