// The session pieces of clients/js (Apollo Link, urql exchange) against `ordergraph serve
// --workers 2`: every round writes through one worker and reads through the other, on
// keep-alive connections pinned to each worker (told apart by /healthz's `leading`).
// Usage: node session_clients.cjs BASE_URL ROUNDS
// Prints one JSON line per client: {"event": "apollo"|"urql"|"control", "rounds": [...]}, each
// round {writer, reader, wrote, sent, status, stale, position}: `sent` the read's
// OrderGraph-Min-Position, `stale` its answer's extensions.freshness.stale (null: none).
"use strict";

const http = require("node:http");
const path = require("node:path");
const { emit, run } = require("./harness.cjs");

const CLIENTS = path.resolve(__dirname, "../../../clients/js");
const { ApolloClient, HttpLink, InMemoryCache, gql } = require("@apollo/client");
const { Client, fetchExchange } = require("@urql/core");
const { sessionLink } = require(path.join(CLIENTS, "apollo.cjs"));
const { sessionExchange } = require(path.join(CLIENTS, "urql.cjs"));

const [base, roundsText] = process.argv.slice(2);
const ROUNDS = Number(roundsText);
const url = `${base}/graphql`;

class Moved extends Error {}

/** A fetch over one keep-alive connection (an agent of one socket); Moved when the agent
 * had to open another one (which may belong to the other worker). */
function pinnedFetch(agent, state) {
  return (input, init = {}) =>
    new Promise((resolve, reject) => {
      const headers = {};
      new Headers(init.headers).forEach((value, name) => {
        headers[name] = value;
      });
      const request = http.request(
        String(input),
        { method: init.method || "GET", headers, agent },
        (response) => {
          if (state.opened && !request.reusedSocket) reject(new Moved("a new connection"));
          state.opened = true;
          const chunks = [];
          response.on("data", (chunk) => chunks.push(chunk));
          response.on("end", () => {
            const answer = new Headers();
            for (const [name, value] of Object.entries(response.headers)) {
              answer.set(name, Array.isArray(value) ? value.join(", ") : value);
            }
            resolve(new Response(Buffer.concat(chunks), { status: response.statusCode, headers: answer }));
          });
        },
      );
      request.on("error", reject);
      if (init.body) request.write(init.body);
      request.end();
    });
}

/** A connection to each worker: [{name, fetch, sent}], told apart by what each one leads. */
async function pinWorkers() {
  const found = new Map();
  for (let attempt = 0; attempt < 200 && found.size < 2; attempt += 1) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const fetch = pinnedFetch(agent, { opened: false });
    const health = await (await fetch(`${base}/healthz`)).json();
    const name = JSON.stringify([...health.leading].sort());
    if (found.has(name)) {
      agent.destroy();
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    found.set(name, { name, fetch, agent, sent: [] });
  }
  if (found.size < 2) throw new Error(`reached one worker only: ${[...found.keys()]}`);
  return [...found.values()];
}

/** Mutations go to `writer`, reads to `reader`; what each request sent as its
 * OrderGraph-Min-Position, and its answer's freshness report, are kept. */
function routed(route) {
  return async (input, init = {}) => {
    const query = init.body ? JSON.parse(init.body).query : new URL(String(input)).searchParams.get("query");
    const worker = /^\s*mutation\b/.test(query) ? route.writer : route.reader;
    const response = await worker.fetch(input, init);
    const answer = await response.clone().json();
    worker.sent.push({
      minPosition: new Headers(init.headers).get("OrderGraph-Min-Position"),
      freshness: answer.extensions ? answer.extensions.freshness : undefined,
    });
    return response;
  };
}

const CREATE = `mutation Create($input: CreateOrderInput!) {
  createOrder(input: $input) { orderId position } }`;
const CONFIRM = `mutation Confirm($id: ID!) {
  confirmOrder(input: { orderId: $id }) { position } }`;
const READ = `query Read($id: ID!) { order(id: $id) { id status position } }`;
const INPUT = {
  customerId: "session",
  items: [{ sku: "KB-MECH-87", quantity: 1, unitPrice: "89.00" }],
  shippingAddress: { name: "Ada", line1: "1 Way", city: "London", postalCode: "N1", country: "GB" },
};

function apolloClient(route, withSession) {
  const http = new HttpLink({ uri: url, fetch: routed(route) });
  return {
    async mutate(text, variables) {
      const answer = await this.client.mutate({ mutation: gql(text), variables });
      return answer.data;
    },
    async read(text, variables) {
      const answer = await this.client.query({
        query: gql(text), variables, fetchPolicy: "network-only",
      });
      return { data: answer.data };
    },
    client: new ApolloClient({
      cache: new InMemoryCache(),
      link: withSession ? sessionLink().concat(http) : http,
    }),
  };
}

function urqlClient(route) {
  const client = new Client({
    url,
    fetch: routed(route),
    exchanges: [sessionExchange(), fetchExchange],
    requestPolicy: "network-only",
  });
  return {
    async mutate(text, variables) {
      const answer = await client.mutation(text, variables).toPromise();
      if (answer.error) throw answer.error;
      return answer.data;
    },
    async read(text, variables) {
      const answer = await client.query(text, variables).toPromise();
      if (answer.error) throw answer.error;
      return { data: answer.data };
    },
  };
}

async function round(client, route) {
  const created = (await client.mutate(CREATE, { input: INPUT })).createOrder;
  const confirmed = (await client.mutate(CONFIRM, { id: created.orderId })).confirmOrder;
  const sentBefore = route.reader.sent.length;
  const read = await client.read(READ, { id: created.orderId });
  const { minPosition, freshness } = route.reader.sent[sentBefore];
  return {
    writer: route.writer.name,
    reader: route.reader.name,
    wrote: confirmed.position,
    sent: minPosition,
    status: read.data.order ? read.data.order.status : null, // null: not in the views yet
    position: read.data.order ? read.data.order.position : null,
    stale: freshness ? freshness.stale : null,
  };
}

async function rounds(make, workers) {
  const route = { writer: workers[0], reader: workers[1] };
  const client = make(route);
  const done = [];
  for (let index = 0; index < ROUNDS; index += 1) {
    route.writer = workers[index % 2];
    route.reader = workers[(index + 1) % 2];
    done.push(await round(client, route));
  }
  return done;
}

run(async () => {
  const workers = await pinWorkers();
  emit("apollo", { rounds: await rounds((route) => apolloClient(route, true), workers) });
  emit("urql", { rounds: await rounds(urqlClient, workers) });
  emit("control", { rounds: await rounds((route) => apolloClient(route, false), workers) });
  for (const worker of workers) worker.agent.destroy();
});
