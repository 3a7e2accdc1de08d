// Drives docs/clients.md's Apollo Client blocks, which tests/docs/test_clients.py wrote into this
// script's folder (with this script and harness.cjs beside them): pages of `orders` and of
// `Customer.orders` merged by relayStylePagination, `order(id)` answered from the cache, and a
// change pushed by `ordersChanged` landing in the watched list. Reports each step as a JSON line
// with the HTTP requests made so far.
import { command, emit } from "./harness.cjs";

if (!globalThis.WebSocket) globalThis.WebSocket = (await import("ws")).WebSocket;
let requests = 0;
const fetchOverTheNetwork = globalThis.fetch;
globalThis.fetch = (...args) => {
  requests += 1;
  return fetchOverTheNetwork(...args);
};
const { client } = await import("./apollo/client.mjs");
const { CUSTOMER_ORDERS, ORDERS, followOrders, openOrder, showMore } = await import(
  "./apollo/orders.mjs"
);

/** The watched query's data once `ready(data)` holds. */
function until(query, ready) {
  return new Promise((resolve, reject) => {
    let subscription = null;
    let found = null;
    const check = () => {
      const { data } = query.getCurrentResult();
      if (found === null && data && ready(data)) {
        found = data;
        if (subscription) subscription.unsubscribe();
        resolve(data);
      }
    };
    subscription = query.subscribe({ next: check, error: reject });
    if (found !== null) subscription.unsubscribe();
    else check();
  });
}

const ids = (connection) => connection.edges.map((edge) => edge.node.id);

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
process.exit(0);
