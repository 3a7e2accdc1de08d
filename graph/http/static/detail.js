// One order: its facts, its lines, its history, and the next steps of its life (confirm, ship
// with a tracking number, cancel with a reason), kept current by `orderUpdated`. Each step
// sends the version shown (`expectedVersion`), so a change made meanwhile elsewhere is refused
// (CONCURRENCY_CONFLICT) instead of overwritten; a retry of the same step reuses its commandId.

import { Attempt, graphql, problemsFrom } from "./api.js";
import { $, announce, flash, setTime, showProblems } from "./show.js";

const DETAIL_FIELDS = `id customerId status itemCount totalAmount createdAt updatedAt version
  position trackingNumber cancellationReason
  items { sku quantity unitPrice lineTotal }
  shippingAddress { name line1 line2 city postalCode country }
  history { type version position occurredAt summary }`;
const READ = `query OrderDetail($id: ID!, $seen: Position) {
  order(id: $id, minPosition: $seen) { ${DETAIL_FIELDS} } }`;
const FOLLOW = `subscription FollowOrder($id: ID!, $after: Position) {
  orderUpdated(id: $id, afterPosition: $after) { ${DETAIL_FIELDS} } }`;
const STEPS = {
  confirm: {
    field: "confirmOrder",
    doing: "Confirming…",
    done: "confirmed",
    mutation: `mutation ConfirmOrder($input: ConfirmOrderInput!) {
      confirmOrder(input: $input) { position order { ${DETAIL_FIELDS} } } }`,
  },
  ship: {
    field: "shipOrder",
    doing: "Shipping…",
    done: "shipped",
    mutation: `mutation ShipOrder($input: ShipOrderInput!) {
      shipOrder(input: $input) { position order { ${DETAIL_FIELDS} } } }`,
  },
  cancel: {
    field: "cancelOrder",
    doing: "Cancelling…",
    done: "cancelled",
    mutation: `mutation CancelOrder($input: CancelOrderInput!) {
      cancelOrder(input: $input) { position order { ${DETAIL_FIELDS} } } }`,
  },
};
// Which steps each status allows (docs/contract/contract.md, "The order's life").
const NEXT_STEPS = {
  PLACED: ["confirm", "cancel"],
  CONFIRMED: ["ship", "cancel"],
  SHIPPED: [],
  CANCELLED: [],
};

function address(value) {
  const parts = [value.name, value.line1, value.line2, `${value.city} ${value.postalCode}`];
  return [...parts.filter(Boolean), value.country].join(", ");
}

export class OrderDetail {
  constructor(live, list) {
    this.live = live;
    this.list = list;
    this.id = null;
    this.order = null;
    this.stop = null;
    this.attempt = new Attempt();
    for (const name of Object.keys(STEPS)) {
      $(`#${name}-form`).addEventListener("submit", (event) => {
        event.preventDefault();
        this.step(name, event.target);
      });
    }
  }

  /** Show the order `id`: read it (no older than what the list has seen), then follow it. */
  async open(id) {
    this.close();
    this.id = id;
    $("#detail-title").replaceChildren("Order ", Object.assign(document.createElement("code"), {
      textContent: id,
    }));
    $("#detail-body").hidden = true;
    showProblems($("#detail-errors"), []);
    $("#detail-status-note").textContent = "";
    let data;
    try {
      ({ data } = await graphql(READ, { id, seen: this.list.seen }));
    } catch (error) {
      if (this.id === id) showProblems($("#detail-errors"), problemsFrom(error));
      return;
    }
    if (this.id !== id) return;
    if (!data.order) {
      const message = "There is no such order, or this token may not see it.";
      showProblems($("#detail-errors"), [{ code: "NOT_FOUND", message }]);
      return;
    }
    this.show(data.order);
    this.stop = this.live.subscribe(
      FOLLOW,
      () => ({ id, after: this.order ? this.order.position : null }),
      {
        next: (pushed) => this.show(pushed.orderUpdated),
        error: (problems) => showProblems($("#detail-errors"), problems),
      },
    );
  }

  close() {
    if (this.stop) this.stop();
    this.stop = null;
    this.id = null;
    this.order = null;
  }

  /** Show `order` unless what is shown is at least as new. */
  show(order) {
    if (!order || order.id !== this.id) return;
    if (this.order && order.position <= this.order.position) return;
    const before = this.order;
    this.order = order;
    this.render(order);
    if (before) {
      flash($("#detail-body .facts"));
      if (before.status !== order.status) announce(`Order ${order.id} is now ${order.status}.`);
    }
  }

  render(order) {
    $("#detail-body").hidden = false;
    const status = $("#detail-status");
    status.textContent = order.status;
    status.dataset.status = order.status;
    $("#detail-view").dataset.status = order.status;
    $("#detail-view").dataset.version = String(order.version);
    $("#detail-customer").textContent = order.customerId;
    $("#detail-total").textContent = order.totalAmount;
    setTime($("#detail-created"), order.createdAt, "Placed");
    setTime($("#detail-updated"), order.updatedAt, "Updated");
    $("#detail-version").textContent = String(order.version);
    $("#detail-tracking-row").hidden = !order.trackingNumber;
    $("#detail-tracking").textContent = order.trackingNumber || "";
    $("#detail-reason-row").hidden = !order.cancellationReason;
    $("#detail-reason").textContent = order.cancellationReason || "";
    $("#detail-address").textContent = address(order.shippingAddress);

    $("#detail-lines tbody").replaceChildren(
      ...order.items.map((item) => {
        const tr = document.createElement("tr");
        const cells = [item.sku, String(item.quantity), item.unitPrice, item.lineTotal];
        cells.forEach((text, index) => {
          const cell = document.createElement(index === 0 ? "th" : "td");
          if (index === 0) cell.scope = "row";
          else cell.className = "num";
          cell.textContent = text;
          tr.append(cell);
        });
        return tr;
      }),
    );

    const allowed = NEXT_STEPS[order.status] || [];
    for (const name of Object.keys(STEPS)) $(`#${name}-form`).hidden = !allowed.includes(name);
    const final = $("#detail-final");
    final.hidden = allowed.length > 0;
    final.textContent = `The order is ${order.status}: its life is over.`;

    $("#detail-history").replaceChildren(
      ...order.history.map((entry) => {
        const item = document.createElement("li");
        item.dataset.type = entry.type;
        const time = document.createElement("time");
        setTime(time, entry.occurredAt);
        const summary = document.createElement("span");
        summary.className = "summary";
        summary.textContent = entry.summary;
        const about = document.createElement("span");
        about.className = "hint";
        about.textContent = `${entry.type} · version ${entry.version} · position ${entry.position}`;
        item.append(time, summary, about);
        return item;
      }),
    );
  }

  /** Send one step (confirm, ship or cancel) for the version shown. */
  async step(name, form) {
    const step = STEPS[name];
    const order = this.order;
    if (!order) return;
    const input = { orderId: order.id, expectedVersion: order.version };
    for (const field of form.querySelectorAll("input")) input[field.name] = field.value.trim();
    input.commandId = this.attempt.idFor(input);
    const buttons = document.querySelectorAll("#detail-actions button");
    for (const button of buttons) button.disabled = true;
    $("#detail-status-note").textContent = step.doing;
    showProblems($("#detail-errors"), []);
    try {
      const { data } = await graphql(step.mutation, { input });
      this.attempt.done();
      const result = data[step.field];
      form.reset();
      $("#detail-status-note").textContent = `Order ${step.done}.`;
      $("#detail-status-note").focus(); // the step's form may be gone now
      if (result.order) {
        this.show(result.order);
        this.list.apply(result.order);
      }
    } catch (error) {
      $("#detail-status-note").textContent = "";
      showProblems($("#detail-errors"), problemsFrom(error));
      $("#detail-errors").focus();
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  }
}
