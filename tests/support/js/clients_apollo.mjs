// Drives docs/clients.md's Apollo Client blocks, which tests/docs/test_clients.py wrote into this
// script's folder (with this script and harness.cjs beside them): pages of `orders` and of
// `Customer.orders` merged by relayStylePagination, `order(id)` answered from the cache, and a
// change pushed by `ordersChanged` landing in the watched list, over the WebSocket, then over
// HTTP (multipart with HttpLink alone, and server-sent events with the doc's SSELink). Reports
// each step as a JSON line with the HTTP requests made so far.
import { command, emit } from "./harness.cjs";

if (!globalThis.WebSocket) globalThis.WebSocket = (await import("ws")).WebSocket;
let requests = 0;
const fetchOverTheNetwork = globalThis.fetch;
globalThis.fetch = (...args) => {
  requests += 1;
  return fetchOverTheNetwork(...args);
};
const { client } = await import("./apollo/client.mjs");
const { CUSTOMER_ORDERS, ORDER, ORDERS, followOrders, openOrder, showMore } = await import(
  "./apollo/orders.mjs"
);
const { httpOnlyClient } = await import("./apollo/http-only.mjs");
const { sseClient } = await import("./apollo/sse-link.mjs");

/** The watched query's data once `ready(data)` holds (the watch it opens ends a tick later:
 * Apollo's ObservableQuery must not be left from inside its own first delivery). */
function until(query, ready) {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = () => {
      const { data } = query.getCurrentResult();
      if (!done && data && ready(data)) {
        done = true;
        setTimeout(() => subscription.unsubscribe(), 0);
        resolve(data);
      }
    };
    const subscription = query.subscribe({ next: check, error: reject });
    check();
  });
}

const ids = (connection) => connection.edges.map((edge) => edge.node.id);
const newestIds = (data) => ids(data.orders);

const list = client.watchQuery({ query: ORDERS, variables: { first: 2 } });
const watching = list.subscribe({ error: (error) => emit("error", { message: error.message }) });
const first = await until(list, (data) => data.orders.edges.length === 2);
emit("first", { ids: ids(first.orders), requests });

await showMore(list, (data) => data.orders);
const more = await until(list, (data) => data.orders.edges.length === 4);
emit("more", { ids: ids(more.orders), requests });

const opened = await openOrder(client, more.orders.edges[3].node.id);
emit("opened", { order: opened, requests });

const customer = client.watchQuery({ query: CUSTOMER_ORDERS, variables: { id: "ada", first: 2 } });
await until(customer, (data) => data.customer.orders.edges.length === 2);
await showMore(customer, (data) => data.customer.orders);
const both = await until(customer, (data) => data.customer.orders.edges.length === 4);
emit("customer", { ids: ids(both.customer.orders), requests });

const newest = Math.max(...more.orders.edges.map((edge) => edge.node.position));
const following = followOrders(client, newest);
emit("following", { requests });
const { orderId } = await command("confirmed");
const updated = await until(list, (data) =>
  data.orders.edges.some((edge) => edge.node.id === orderId && edge.node.status === "CONFIRMED"),
);
emit("updated", {
  ids: ids(updated.orders),
  opened: await openOrder(client, orderId),
  requests,
});
following.unsubscribe();
watching.unsubscribe();
client.stop();

// The same over HTTP: each client watches an order, follows the changes, and sees it confirmed.
const watched = {};
const followers = [];
for (const [name, other] of Object.entries({ multipart: httpOnlyClient, sse: sseClient })) {
  const order = other.watchQuery({ query: ORDER, variables: { id: newestIds(more)[2] } });
  await until(order, (data) => data.order !== null);
  watched[name] = order;
  followers.push(followOrders(other, newest));
}
emit("following-http");
const { orderId: overHttp } = await command("confirmed");
const seen = {};
for (const [name, order] of Object.entries(watched)) {
  const data = await until(order, (data) => data.order.status === "CONFIRMED");
  seen[name] = { id: data.order.id, status: data.order.status };
}
emit("http-updated", { orderId: overHttp, seen });
for (const follower of followers) follower.unsubscribe();
process.exit(0);
