// The live orders page: places orders, lists them a page at a time (live, optionally of one
// status), and shows one order's detail at #order/<id>, where its life goes on (confirm, ship,
// cancel) and its history grows. Everything stays current through one graphql-transport-ws
// connection; nothing reloads the page.

import { ENDPOINT, setToken, token } from "./api.js";
import { OrderDetail } from "./detail.js";
import { orderForm } from "./form.js";
import { OrdersList } from "./list.js";
import { LiveClient } from "./live.js";
import { $ } from "./show.js";

function setConnection(state, text) {
  const element = $("#connection");
  element.dataset.state = state;
  element.textContent = text;
}

const socketUrl = new URL(ENDPOINT, window.location.href);
socketUrl.protocol = socketUrl.protocol === "https:" ? "wss:" : "ws:";
const live = new LiveClient(socketUrl.href, setConnection);
const list = new OrdersList(live);
const detail = new OrderDetail(live, list);

/** The order id in the address (#order/<id>), or null for the list. */
function routedOrder() {
  const match = /^#order\/(.+)$/.exec(window.location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

function route() {
  const id = routedOrder();
  const from = detail.id;
  $("#list-view").hidden = id !== null;
  $("#detail-view").hidden = id === null;
  if (id !== null) {
    detail.open(id);
    $("#detail-title").focus();
    return;
  }
  detail.close();
  const link = from === null ? null : list.linkTo(from);
  if (link) link.focus();
  else if (from !== null) $("#orders-title").focus();
}

document.getElementById("detail-status-note").tabIndex = -1;
orderForm((order) => list.apply(order));
$("#refresh").addEventListener("click", () => list.load());
$("#older").addEventListener("click", () => list.older());
$("#newer").addEventListener("click", () => list.newer());
$("#status-filter").addEventListener("change", (event) => list.filter(event.target.value));
const tokenInput = $("#token");
tokenInput.value = token();
tokenInput.addEventListener("change", () => {
  setToken(tokenInput.value.trim());
  live.restart();
  list.load();
  if (detail.id !== null) detail.open(detail.id);
});
window.addEventListener("hashchange", route);
live.connect();
list.load({});
route();
