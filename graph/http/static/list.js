// The orders list: one page of orders (Relay `first`/`after` forwards, `last`/`before` backwards),
// optionally of one status, kept current by one `ordersChanged` subscription. A change that
// takes an order out of the status filter comes too (a departure): its row goes. An order
// that joins the page, or leaves it, makes the page read again shortly after, so it is full and
// every row has its cursor; each read waits for the newest position the page has seen
// (`minPosition`), and the changes that arrive during it are applied again on top of it.

import { graphql, problemsFrom, reachedPosition } from "./api.js";
import { $, announce, flash, orderHref, setTime, showProblems } from "./show.js";

export const PAGE_SIZE = 10;
const REREAD_MS = 250;
const ORDER_FIELDS =
  "id customerId status itemCount totalAmount createdAt updatedAt version position";
const PAGE = `query OrdersPage($status: OrderStatus, $first: Int, $after: String, $last: Int,
    $before: String, $seen: Position) {
  orders(status: $status, first: $first, after: $after, last: $last, before: $before,
         minPosition: $seen) {
    edges { cursor node { ${ORDER_FIELDS} } }
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }`;
const WATCH = `subscription WatchOrders($status: OrderStatus, $after: Position) {
  ordersChanged(status: $status, afterPosition: $after) { ${ORDER_FIELDS} } }`;
const LABELS = ["Order", "Customer", "Status", "Lines", "Total", "Placed"];

/** Newest placed first, as the service lists them. */
function newerFirst(a, b) {
  const byTime = Date.parse(b.createdAt) - Date.parse(a.createdAt);
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function newRow() {
  const tr = document.createElement("tr");
  const id = document.createElement("th");
  id.scope = "row";
  const link = document.createElement("a");
  link.append(document.createElement("code"));
  id.append(link);
  tr.append(id);
  for (let index = 1; index < LABELS.length; index++) tr.append(document.createElement("td"));
  LABELS.forEach((label, index) => (tr.children[index].dataset.label = label));
  tr.children[2].append(document.createElement("span"));
  tr.children[2].firstChild.className = "status";
  tr.children[3].className = "num";
  tr.children[4].className = "num";
  tr.children[5].append(document.createElement("time"));
  return tr;
}

function render(tr, order) {
  tr.dataset.orderId = order.id;
  tr.dataset.status = order.status;
  tr.dataset.position = String(order.position);
  const link = tr.children[0].firstChild;
  link.href = orderHref(order.id);
  link.firstChild.textContent = order.id;
  tr.children[1].textContent = order.customerId;
  const status = tr.children[2].firstChild;
  status.textContent = order.status;
  status.dataset.status = order.status;
  tr.children[3].textContent = String(order.itemCount);
  tr.children[4].textContent = order.totalAmount;
  setTime(tr.children[5].firstChild, order.createdAt, "Placed");
  tr.children[5].firstChild.title = `Placed ${order.createdAt}, last updated ${order.updatedAt}`;
}

export class OrdersList {
  constructor(live) {
    this.live = live;
    this.rows = new Map(); // order id -> {order, cursor, tr}
    this.status = ""; // the status filter ("" is any)
    this.wanted = {}; // the page's arguments: {} for the newest, {after} or {before}
    this.pageInfo = { hasPreviousPage: false, hasNextPage: false };
    this.seen = 0; // the largest position seen: reads wait for it, the live list resumes after it
    this.reading = null; // the read under way
    this.replay = null; // the changes that arrived during it
    this.timer = null; // a read asked for shortly
    this.stop = null;
    this.watching = null;
  }

  /** Read the page `anchor` names (the one asked for last by default), then follow it live. */
  async load(anchor = this.wanted) {
    clearTimeout(this.timer);
    this.timer = null;
    this.wanted = anchor;
    const size = anchor.before ? { last: PAGE_SIZE } : { first: PAGE_SIZE };
    const variables = { status: this.status || null, seen: this.seen, ...anchor, ...size };
    const read = graphql(PAGE, variables);
    this.reading = read;
    this.replay = [];
    $("#refresh").disabled = true;
    let answer;
    try {
      answer = await read;
    } catch (error) {
      if (this.reading === read) {
        this.reading = this.replay = null;
        $("#refresh").disabled = false;
        showProblems($("#orders-errors"), problemsFrom(error));
      }
      return;
    }
    if (this.reading !== read) return; // a newer read replaced this one
    const connection = answer.data.orders;
    if (anchor.before && !connection.pageInfo.hasPreviousPage) {
      return this.load({}); // back at the top: the newest page, which new orders join
    }
    const replay = this.replay;
    this.reading = this.replay = null;
    $("#refresh").disabled = false;
    showProblems($("#orders-errors"), []);
    this.seen = Math.max(this.seen, reachedPosition(answer.extensions));
    this.pageInfo = connection.pageInfo;
    this.replace(connection.edges);
    for (const order of replay) this.apply(order);
    this.renderPager();
    this.watch();
  }

  /** Read the page again shortly (once, however many changes ask for it meanwhile). */
  later() {
    if (this.timer === null) this.timer = setTimeout(() => this.load(), REREAD_MS);
  }

  /** Finish a read asked for or under way, so every row has its cursor. */
  async settle() {
    if (this.timer !== null) await this.load();
    while (this.reading) await this.reading.catch(() => null);
  }

  async older() {
    await this.settle();
    const last = this.sorted().at(-1);
    await this.load({ after: (last && last.cursor) || this.pageInfo.endCursor });
  }

  async newer() {
    await this.settle();
    const first = this.sorted()[0];
    await this.load({ before: (first && first.cursor) || this.pageInfo.startCursor });
  }

  async filter(status) {
    this.status = status;
    if (this.stop) this.stop();
    this.stop = null;
    $("#orders-title").textContent = status ? `Orders · ${status}` : "Orders";
    await this.load({});
  }

  watch() {
    if (this.stop && this.watching === this.status) return;
    if (this.stop) this.stop();
    const status = this.status;
    this.watching = status;
    this.stop = this.live.subscribe(WATCH, () => ({ status: status || null, after: this.seen }), {
      next: (data) => this.apply(data.ordersChanged),
      error: (problems) => {
        this.stop = null;
        showProblems($("#orders-errors"), problems);
      },
    });
  }

  /** An order's new state, from the live list or from this page's own commands. */
  apply(order) {
    this.seen = Math.max(this.seen, order.position);
    if (this.replay) this.replay.push(order);
    const entry = this.rows.get(order.id);
    const matches = !this.status || order.status === this.status;
    if (entry) {
      if (order.position <= entry.order.position) return;
      const before = entry.order.status;
      if (!matches) {
        entry.tr.remove();
        this.rows.delete(order.id);
        announce(`Order ${order.id} is now ${order.status}, so it left this list.`);
        this.showEmpty();
        this.later();
        return;
      }
      entry.order = order;
      render(entry.tr, order);
      flash(entry.tr);
      if (before !== order.status) announce(`Order ${order.id} is now ${order.status}.`);
      return;
    }
    if (!matches || !this.belongs(order)) return; // a departure, or another page's order
    const next = this.sorted().find((other) => newerFirst(order, other.order) < 0);
    const added = { order, cursor: null, tr: newRow() };
    render(added.tr, order);
    $("#orders tbody").insertBefore(added.tr, next ? next.tr : null);
    this.rows.set(order.id, added);
    flash(added.tr);
    for (const extra of this.sorted().slice(PAGE_SIZE)) {
      extra.tr.remove();
      this.rows.delete(extra.order.id);
      this.pageInfo = { ...this.pageInfo, hasNextPage: true };
    }
    this.showEmpty();
    this.renderPager();
    this.later();
  }

  /** Whether `order` sorts inside this page: past its first row only on the newest page,
   * past its last only on the oldest. */
  belongs(order) {
    const rows = this.sorted();
    if (rows.length > 0 && newerFirst(order, rows[0].order) < 0) {
      return !this.pageInfo.hasPreviousPage;
    }
    if (rows.length > 0 && newerFirst(order, rows.at(-1).order) > 0) {
      return !this.pageInfo.hasNextPage;
    }
    return rows.length > 0 || (!this.pageInfo.hasPreviousPage && !this.pageInfo.hasNextPage);
  }

  sorted() {
    return [...this.rows.values()].sort((a, b) => newerFirst(a.order, b.order));
  }

  replace(edges) {
    const rows = new Map();
    for (const { cursor, node } of edges) {
      const known = this.rows.get(node.id);
      const entry = known || { order: node, cursor, tr: newRow() };
      entry.cursor = cursor;
      if (!known || node.position > known.order.position) {
        entry.order = node;
        render(entry.tr, node);
      }
      rows.set(node.id, entry);
    }
    this.rows = rows;
    $("#orders tbody").replaceChildren(...[...rows.values()].map((entry) => entry.tr));
    this.showEmpty();
  }

  showEmpty() {
    const empty = $("#orders-empty");
    empty.hidden = this.rows.size > 0;
    empty.textContent = this.status ? `No ${this.status} orders here.` : "No orders here.";
  }

  renderPager() {
    $("#newer").disabled = !this.pageInfo.hasPreviousPage;
    $("#older").disabled = !this.pageInfo.hasNextPage;
    const newest = !this.pageInfo.hasPreviousPage;
    $("#page-label").textContent = newest ? "Newest orders" : "Older orders";
  }

  /** The link to focus when coming back from an order's detail. */
  linkTo(id) {
    const entry = this.rows.get(id);
    return entry ? entry.tr.children[0].firstChild : null;
  }
}
