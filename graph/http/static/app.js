// The live orders page: lists the newest orders, places new ones, and keeps the list current
// through one `ordersChanged` subscription (graphql-transport-ws): orders other clients place
// or change appear without a refresh. It resumes after the newest position it has shown, so a
// reconnect misses nothing and repeats nothing.
"use strict";

(function () {
  const ENDPOINT = "/graphql";
  const MAX_ROWS = 20;
  const ORDER_FIELDS = "id customerId status itemCount totalAmount createdAt updatedAt version position";
  const NEWEST = `query NewestOrders($first: Int) {
    orders(first: $first) { edges { node { ${ORDER_FIELDS} } } } }`;
  const CREATE = `mutation PlaceOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { orderId position order { ${ORDER_FIELDS} } } }`;
  const WATCH = `subscription WatchOrders($after: Position) {
    ordersChanged(afterPosition: $after) { ${ORDER_FIELDS} } }`;
  const TOKEN_KEY = "ordergraph.token";

  const $ = (selector) => document.querySelector(selector);

  // ---- talking to the API -------------------------------------------------------------

  /** A failed call: a list of {code, message, field, correlationId}. */
  class ApiError extends Error {
    constructor(problems) {
      super(problems.map((p) => `${p.code}: ${p.message}`).join("; "));
      this.problems = problems;
    }
  }

  function problemsOf(errors) {
    return errors.map((error) => {
      const extensions = (error && error.extensions) || {};
      return {
        code: extensions.code || "ERROR",
        message: (error && error.message) || "Unknown error",
        field: extensions.field,
        correlationId: extensions.correlationId,
      };
    });
  }

  function authorization() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    return token ? `Bearer ${token}` : null;
  }

  async function graphql(query, variables) {
    const headers = {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
    };
    const auth = authorization();
    if (auth) headers.authorization = auth;
    let response;
    try {
      response = await fetch(ENDPOINT, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables }),
      });
    } catch (error) {
      throw new ApiError([{ code: "NETWORK_ERROR", message: "The service cannot be reached." }]);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    if (body && Array.isArray(body.errors) && body.errors.length > 0) {
      throw new ApiError(problemsOf(body.errors));
    }
    if (!response.ok || !body || !body.data) {
      const message = response.statusText || "The service gave an unexpected answer.";
      throw new ApiError([{ code: `HTTP_${response.status}`, message }]);
    }
    return body.data;
  }

  /** A small graphql-transport-ws client: reconnects, and re-subscribes with fresh variables. */
  class LiveClient {
    constructor(url, onState) {
      this.url = url;
      this.onState = onState;
      this.operations = new Map(); // id -> {query, variables(), next, error}
      this.socket = null;
      this.acknowledged = false;
      this.retries = 0;
      this.nextId = 1;
      this.timer = null;
    }

    subscribe(query, variables, sink) {
      const id = String(this.nextId++);
      this.operations.set(id, { query, variables, ...sink });
      if (this.acknowledged) this.sendSubscribe(id);
      else this.connect();
      return () => {
        if (this.operations.delete(id) && this.acknowledged) {
          this.send({ id, type: "complete" });
        }
      };
    }

    restart() {
      this.retries = 0;
      clearTimeout(this.timer);
      this.timer = null;
      if (this.socket) this.socket.close(1000, "restart");
      else this.connect();
    }

    connect() {
      if (this.socket || this.timer) return;
      this.onState("connecting", "Connecting…");
      const socket = new WebSocket(this.url, "graphql-transport-ws");
      this.socket = socket;
      socket.addEventListener("open", () => {
        const auth = authorization();
        this.send({ type: "connection_init", payload: auth ? { Authorization: auth } : {} });
      });
      socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
      socket.addEventListener("close", (event) => this.closed(socket, event));
    }

    receive(message) {
      const operation = this.operations.get(message.id);
      switch (message.type) {
        case "connection_ack":
          this.acknowledged = true;
          this.retries = 0;
          this.onState("live", "Live");
          for (const id of this.operations.keys()) this.sendSubscribe(id);
          break;
        case "ping":
          this.send({ type: "pong" });
          break;
        case "next":
          if (!operation) break;
          if (message.payload.errors) operation.error(problemsOf(message.payload.errors));
          if (message.payload.data) operation.next(message.payload.data);
          break;
        case "error":
          this.operations.delete(message.id);
          if (operation) operation.error(problemsOf(message.payload));
          break;
        case "complete":
          this.operations.delete(message.id);
          break;
        default:
          break;
      }
    }

    closed(socket, event) {
      if (socket !== this.socket) return;
      this.socket = null;
      this.acknowledged = false;
      if (event.code === 4403) {
        const reason = event.reason || "the service refused the credentials";
        this.onState("offline", `Not live: UNAUTHENTICATED (${reason})`);
        return;
      }
      const delay = Math.min(10000, 500 * 2 ** this.retries++);
      this.onState("offline", `Offline, retrying in ${Math.round(delay / 1000) || 1} s…`);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.connect();
      }, delay);
    }

    sendSubscribe(id) {
      const operation = this.operations.get(id);
      const payload = { query: operation.query, variables: operation.variables() };
      this.send({ id, type: "subscribe", payload });
    }

    send(message) {
      if (this.socket && this.socket.readyState === WebSocket.OPEN) {
        this.socket.send(JSON.stringify(message));
      }
    }
  }

  // ---- showing things -----------------------------------------------------------------

  function showProblems(container, problems) {
    container.replaceChildren();
    if (!problems || problems.length === 0) {
      container.hidden = true;
      return;
    }
    const list = document.createElement("ul");
    for (const problem of problems) {
      const item = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = problem.code;
      item.append(code, " ", problem.message);
      if (problem.field) item.append(` (field: ${problem.field})`);
      if (problem.correlationId) item.append(` (request ${problem.correlationId})`);
      list.append(item);
    }
    container.append(list);
    container.hidden = false;
  }

  function problemsFrom(error) {
    if (error instanceof ApiError) return error.problems;
    return [{ code: "CLIENT_ERROR", message: String(error && error.message ? error.message : error) }];
  }

  function announce(text) {
    $("#announcer").textContent = text;
  }

  /** The time alone for today, else the date and time, in the reader's locale. */
  function formatTime(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    if (date.toDateString() === new Date().toDateString()) return date.toLocaleTimeString();
    return date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
  }

  // ---- the orders table ---------------------------------------------------------------

  const rows = new Map(); // order id -> {order, tr}
  let newestPosition = 0; // the largest position shown: where the live list resumes
  let stopWatching = null;

  function newerFirst(a, b) {
    const byTime = Date.parse(b.createdAt) - Date.parse(a.createdAt);
    if (byTime !== 0) return byTime;
    return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  }

  function cell(tr, index) {
    return tr.children[index];
  }

  function render(tr, order) {
    tr.dataset.orderId = order.id;
    tr.dataset.status = order.status;
    tr.dataset.position = String(order.position);
    cell(tr, 0).firstChild.textContent = order.id;
    cell(tr, 1).textContent = order.customerId;
    const status = cell(tr, 2).firstChild;
    status.textContent = order.status;
    status.dataset.status = order.status;
    cell(tr, 3).textContent = String(order.itemCount);
    cell(tr, 4).textContent = order.totalAmount;
    // The rows are newest placed first, so the column shows when each was placed.
    const time = cell(tr, 5).firstChild;
    time.dateTime = order.createdAt;
    time.textContent = formatTime(order.createdAt);
    time.title = `Last updated ${formatTime(order.updatedAt)}`;
  }

  function newRow() {
    const tr = document.createElement("tr");
    const id = document.createElement("th");
    id.scope = "row";
    id.append(document.createElement("code"));
    const status = document.createElement("td");
    status.append(document.createElement("span"));
    status.firstChild.className = "status";
    const updated = document.createElement("td");
    updated.append(document.createElement("time"));
    tr.append(id, document.createElement("td"), status, document.createElement("td"));
    tr.append(document.createElement("td"), updated);
    tr.children[3].className = "num";
    tr.children[4].className = "num";
    return tr;
  }

  function flash(tr) {
    tr.classList.remove("changed");
    void tr.offsetWidth; // restart the animation
    tr.classList.add("changed");
  }

  /** Show `order`, unless the row already shows a view at least as new. */
  function upsert(order) {
    newestPosition = Math.max(newestPosition, order.position);
    const known = rows.get(order.id);
    if (known) {
      if (order.position <= known.order.position) return;
      const before = known.order.status;
      known.order = order;
      render(known.tr, order);
      flash(known.tr);
      if (before !== order.status) announce(`Order ${order.id} is now ${order.status}.`);
      return;
    }
    const tbody = $("#orders tbody");
    const older = [...rows.values()].map((row) => row.order).filter((o) => newerFirst(order, o) < 0);
    const next = older.sort(newerFirst)[0]; // the newest row that belongs below this one
    const entry = { order, tr: newRow() };
    render(entry.tr, order);
    tbody.insertBefore(entry.tr, next ? rows.get(next.id).tr : null);
    rows.set(order.id, entry);
    trim();
  }

  /** Follow every order change after the newest position shown (once the list is read). */
  function watch() {
    if (stopWatching) return;
    stopWatching = live.subscribe(WATCH, () => ({ after: newestPosition }), {
      next: (data) => upsert(data.ordersChanged),
      error: (problems) => {
        stopWatching = null;
        showProblems($("#orders-errors"), problems);
      },
    });
  }

  /** Keep the newest MAX_ROWS rows. */
  function trim() {
    const ordered = [...rows.values()].sort((a, b) => newerFirst(a.order, b.order));
    for (const entry of ordered.slice(MAX_ROWS)) {
      entry.tr.remove();
      rows.delete(entry.order.id);
    }
    $("#orders-empty").hidden = rows.size > 0;
  }

  async function refresh() {
    const button = $("#refresh");
    button.disabled = true;
    try {
      const data = await graphql(NEWEST, { first: MAX_ROWS });
      showProblems($("#orders-errors"), []);
      for (const edge of data.orders.edges) upsert(edge.node);
      watch();
    } catch (error) {
      showProblems($("#orders-errors"), problemsFrom(error));
    } finally {
      button.disabled = false;
      trim();
    }
  }

  // ---- the form -----------------------------------------------------------------------

  let lineCount = 0;

  function addLine() {
    const item = $("#line-template").content.firstElementChild.cloneNode(true);
    const number = ++lineCount;
    for (const input of item.querySelectorAll("input")) {
      input.id = `line-${number}-${input.dataset.name}`;
      item.querySelector(`label[data-for="${input.dataset.name}"]`).htmlFor = input.id;
    }
    item.querySelector(".remove").addEventListener("click", () => {
      item.remove();
      numberLines();
      $("#lines input").focus();
    });
    $("#lines").append(item);
    numberLines();
    return item;
  }

  function numberLines() {
    const lines = [...document.querySelectorAll("#lines .line")];
    lines.forEach((line, index) => {
      line.setAttribute("aria-label", `Line ${index + 1}`);
      const remove = line.querySelector(".remove");
      remove.hidden = lines.length === 1;
      remove.setAttribute("aria-label", `Remove line ${index + 1}`);
      remove.title = `Remove line ${index + 1}`;
    });
  }

  function readForm(form) {
    const value = (name) => form.elements[name].value.trim();
    const items = [...form.querySelectorAll("#lines .line")].map((line) => ({
      sku: line.querySelector('[data-name="sku"]').value.trim(),
      quantity: Number(line.querySelector('[data-name="quantity"]').value),
      unitPrice: line.querySelector('[data-name="unitPrice"]').value.trim(),
    }));
    const address = {
      name: value("name"),
      line1: value("line1"),
      city: value("city"),
      postalCode: value("postalCode"),
      country: value("country"),
    };
    if (value("line2")) address.line2 = value("line2");
    return { customerId: value("customerId"), items, shippingAddress: address };
  }

  function randomId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  // A retry of the same order reuses its commandId, so a lost answer never places it twice.
  let attempt = { payload: null, commandId: null };

  async function placeOrder(event) {
    event.preventDefault();
    const form = event.target;
    const input = readForm(form);
    const payload = JSON.stringify(input);
    if (attempt.payload !== payload) attempt = { payload, commandId: randomId() };
    const button = $("#place-order");
    button.disabled = true;
    $("#form-status").textContent = "Placing the order…";
    showProblems($("#form-errors"), []);
    try {
      const data = await graphql(CREATE, { input: { ...input, commandId: attempt.commandId } });
      const result = data.createOrder;
      attempt = { payload: null, commandId: null };
      if (result.order) upsert(result.order);
      else await refresh();
      $("#form-status").textContent = `Order ${result.orderId} placed.`;
      // Fresh inputs, not emptied ones: an emptied required field the user has touched
      // matches :user-invalid and would show a red border.
      for (const line of [...document.querySelectorAll("#lines .line")]) line.remove();
      addLine();
    } catch (error) {
      $("#form-status").textContent = "";
      showProblems($("#form-errors"), problemsFrom(error));
      $("#form-errors").focus();
    } finally {
      button.disabled = false;
    }
  }

  // ---- start --------------------------------------------------------------------------

  function setConnection(state, text) {
    const element = $("#connection");
    element.dataset.state = state;
    element.textContent = text;
  }

  const socketUrl = new URL(ENDPOINT, window.location.href);
  socketUrl.protocol = socketUrl.protocol === "https:" ? "wss:" : "ws:";
  const live = new LiveClient(socketUrl.href, setConnection);

  document.addEventListener("DOMContentLoaded", () => {
    addLine();
    $("#form-errors").tabIndex = -1;
    $("#add-line").addEventListener("click", () => addLine().querySelector("input").focus());
    $("#order-form").addEventListener("submit", placeOrder);
    $("#refresh").addEventListener("click", refresh);
    const token = $("#token");
    token.value = sessionStorage.getItem(TOKEN_KEY) || "";
    token.addEventListener("change", () => {
      if (token.value.trim()) sessionStorage.setItem(TOKEN_KEY, token.value.trim());
      else sessionStorage.removeItem(TOKEN_KEY);
      live.restart();
      refresh();
    });
    live.connect();
    refresh();
  });
})();
