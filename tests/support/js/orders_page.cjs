// Drives the orders page at argv[2] in headless Chromium for tests/test_browser_page.py.
"use strict";

const { command, emit, launchChromium, run } = require("./harness.cjs");

const ADDRESS = {
  Name: "Grace Hopper",
  "Address line 1": "1 Compiler Street",
  City: "Arlington",
  "Postal code": "22201",
  Country: "US",
};

async function fillOrder(page, customerId, lines) {
  await page.getByLabel("Customer id").fill(customerId);
  for (const [index, line] of lines.entries()) {
    if (index > 0) await page.getByRole("button", { name: "Add line" }).click();
    const item = page.getByRole("listitem", { name: `Line ${index + 1}` });
    await item.getByLabel("SKU").fill(line.sku);
    await item.getByLabel("Quantity").fill(String(line.quantity));
    await item.getByLabel("Unit price").fill(line.unitPrice);
  }
  for (const [label, value] of Object.entries(ADDRESS)) {
    await page.getByLabel(label, { exact: true }).fill(value);
  }
}

async function rowOf(page, orderId) {
  const row = page.locator(`#orders tbody tr[data-order-id="${orderId}"]`);
  const cells = await row.locator("th, td").allInnerTexts();
  const ids = await page
    .locator("#orders tbody tr")
    .evaluateAll((trs) => trs.map((tr) => tr.dataset.orderId));
  return { status: await row.getAttribute("data-status"), cells: cells.map((c) => c.trim()), ids };
}

run(async () => {
  const base = process.argv[2];
  const browser = await launchChromium();
  const problems = [];
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(10000);
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });

    await page.goto(`${base}/`);
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.evaluate(() => {
      window.sameDocument = true;
    });

    await fillOrder(page, "cust-page", [
      { sku: "SKU-A", quantity: 2, unitPrice: "19.99" },
      { sku: "SKU-B", quantity: 1, unitPrice: "5.00" },
    ]);
    await page.getByRole("button", { name: "Place order" }).click();
    await page.locator("#form-status", { hasText: "placed" }).waitFor();
    const first = page.locator("#orders tbody tr").first();
    const orderId = await first.getAttribute("data-order-id");
    emit("created", { orderId, ...(await rowOf(page, orderId)) });

    await command("confirmed");
    await page.locator(`#orders tbody tr[data-order-id="${orderId}"][data-status="CONFIRMED"]`).waitFor();
    emit("updated", {
      ...(await rowOf(page, orderId)),
      sameDocument: await page.evaluate(() => window.sameDocument === true),
      announced: await page.locator("#announcer").innerText(),
    });

    await fillOrder(page, "cust-page", [
      { sku: "SKU-A", quantity: 1, unitPrice: "1.00" },
      { sku: "SKU-A", quantity: 1, unitPrice: "1.00" },
    ]);
    await page.getByRole("button", { name: "Place order" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "BAD_USER_INPUT" });
    await alert.waitFor();
    emit("refused", {
      alert: (await alert.innerText()).trim(),
      rows: await page.locator("#orders tbody tr").count(),
    });

    // Another client places an order: the live list (ordersChanged) shows it, no refresh.
    const { orderId: elsewhere } = await command("placed-elsewhere");
    await page.locator(`#orders tbody tr[data-order-id="${elsewhere}"]`).waitFor();
    emit("appeared", {
      ...(await rowOf(page, elsewhere)),
      sameDocument: await page.evaluate(() => window.sameDocument === true),
    });

    await page.reload();
    await page.locator(`#orders tbody tr[data-order-id="${orderId}"]`).waitFor();
    emit("listed", { ...(await rowOf(page, orderId)), problems });
  } finally {
    await browser.close();
  }
});
