// The new-order form: lines added and removed, the order placed with a commandId that a retry
// of the same order reuses (so a lost answer never places it twice).

import { Attempt, graphql, problemsFrom } from "./api.js";
import { $, showProblems } from "./show.js";

const ORDER_FIELDS =
  "id customerId status itemCount totalAmount createdAt updatedAt version position";
const CREATE = `mutation PlaceOrder($input: CreateOrderInput!) {
  createOrder(input: $input) { orderId position order { ${ORDER_FIELDS} } } }`;

let lineCount = 0;

export function addLine() {
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

/** Wire the form; `placed(order)` gets each new order's view (when the answer carries it). */
export function orderForm(placed) {
  const attempt = new Attempt();
  const form = $("#order-form");
  $("#form-errors").tabIndex = -1;
  $("#add-line").addEventListener("click", () => addLine().querySelector("input").focus());
  addLine();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = readForm(form);
    const commandId = attempt.idFor(input);
    const button = $("#place-order");
    button.disabled = true;
    $("#form-status").textContent = "Placing the order…";
    showProblems($("#form-errors"), []);
    try {
      const { data } = await graphql(CREATE, { input: { ...input, commandId } });
      const result = data.createOrder;
      attempt.done();
      if (result.order) placed(result.order);
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
  });
}
