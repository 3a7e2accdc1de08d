// Drives docs/clients.md's urql blocks, which tests/docs/test_clients.py wrote into this
// script's folder: pages merged by relayPagination, `order(id)` answered by Graphcache, a change
// pushed by `ordersChanged` written into the cache, and a placed order making the cached lists
// stale. Reports each step as a JSON line with the HTTP requests made so far.
import { command, emit } from "./harness.cjs";

if (!globalThis.WebSocket) globalThis.WebSocket = (await import("ws")).WebSocket;
let requests = 0;
const fetchOverTheNetwork = globalThis.fetch;
globalThis.fetch = (...args) => {
  requests += 1;
  return fetchOverTheNetwork(...args);
};
const { client } = await import("./urql/client.mjs");
const { followOrders, openOrder, ordersPage, placeOrder } = await import("./urql/orders.mjs");

const ids = (connection) => connection.edges.map((edge) => edge.node.id);

const first = await ordersPage(client, 2);
emit("first", { ids: ids(first), requests });
const both = await ordersPage(client, 2, first);
emit("more", { ids: ids(both), requests });
const opened = await openOrder(client, both.edges[3].node.id);
emit("opened", { order: opened, requests });

const pushed = [];
const newest = Math.max(...both.edges.map((edge) => edge.node.position));
const following = followOrders(client, newest, (order) => pushed.push(order));
emit("following", { requests });
const { orderId } = await command("confirmed");
while (!pushed.some((order) => order.id === orderId && order.status === "CONFIRMED")) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
emit("updated", { opened: await openOrder(client, orderId), requests });

const placed = await placeOrder(client, {
  customerId: "ada",
  items: [{ sku: "KB-MECH-87", quantity: 1, unitPrice: "89.00" }],
  shippingAddress: {
    name: "Ada Lovelace",
    line1: "12 St James Sq",
    city: "London",
    postalCode: "SW1Y 4JH",
    country: "GB",
  },
});
const after = await ordersPage(client, 2);
emit("placed", { orderId: placed.orderId, ids: ids(after), requests });
following.unsubscribe();
process.exit(0);
