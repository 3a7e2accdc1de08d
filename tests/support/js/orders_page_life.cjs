// The orders page at argv[2] in headless Chromium, argv[3] pixels wide, for
// tests/graph/http/test_live_page_life.py: an order's whole life through the UI (place, its detail
// with its history, confirm, ship with a tracking number; another one cancelled with a reason),
// paging forwards and back, and the status filter staying live. After each view it reports
// what is wider than the viewport and every time's text. With $SCREENSHOT_DIR set it saves a
// full-page screenshot of each view there.
"use strict";

const path = require("node:path");
const { command, emit, launchChromium, run } = require("./harness.cjs");

const ADDRESS = {
  Name: "Grace Hopper",
  "Address line 1": "1 Compiler Street",
  City: "Arlington",
  "Postal code": "22201",
  Country: "US",
};

run(async () => {
  const [base, widthText] = process.argv.slice(2);
  const width = Number(widthText);
  const browser = await launchChromium();
  const problems = [];
  try {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    page.setDefaultTimeout(10000);
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });

    /** What a person would notice: anything sticking out sideways, and the times shown. */
    async function look(name) {
      if (process.env.SCREENSHOT_DIR) {
        const file = path.join(process.env.SCREENSHOT_DIR, `page-${width}-${name}.png`);
        await page.screenshot({ path: file, fullPage: true });
      }
      return page.evaluate(() => {
        const viewport = document.documentElement.clientWidth;
        const wider = [...document.querySelectorAll("body *")]
          .filter((element) => element.getClientRects().length > 0)
          .filter((element) => {
            const box = element.getBoundingClientRect();
            return box.right > viewport + 0.5 || box.left < -0.5;
          })
          .map((element) => `${element.tagName.toLowerCase()}#${element.id}.${element.className}`);
        return {
          viewport,
          scrollWidth: document.documentElement.scrollWidth,
          wider,
          times: [...document.querySelectorAll("time")]
            .filter((time) => time.getClientRects().length > 0)
            .map((time) => time.textContent),
        };
      });
    }

    const listed = () =>
      page
        .locator("#orders tbody tr")
        .evaluateAll((trs) => trs.map((tr) => [tr.dataset.orderId, tr.dataset.status]));

    /** The list once it shows `expected` ids (in order): the page settles after changes. */
    async function listShows(ids) {
      await page.waitForFunction(
        (expected) =>
          JSON.stringify([...document.querySelectorAll("#orders tbody tr")].map((tr) => tr.dataset.orderId)) ===
          JSON.stringify(expected),
        ids,
      );
      return listed();
    }

    async function detail() {
      return page.evaluate(() => ({
        status: document.querySelector("#detail-status").textContent,
        tracking: document.querySelector("#detail-tracking").textContent,
        reason: document.querySelector("#detail-reason").textContent,
        steps: [...document.querySelectorAll("#detail-actions form:not([hidden]) button")].map(
          (button) => button.textContent.trim(),
        ),
        history: [...document.querySelectorAll("#detail-history li")].map((li) => ({
          type: li.dataset.type,
          summary: li.querySelector(".summary").textContent,
          time: li.querySelector("time").textContent,
        })),
        hash: window.location.hash,
      }));
    }

    async function historyOf(length) {
      await page.locator("#detail-history li").nth(length - 1).waitFor();
      return detail();
    }

    async function placeOrder(customerId, sku) {
      await page.getByLabel("Customer id").fill(customerId);
      const line = page.getByRole("listitem", { name: "Line 1" });
      await line.getByLabel("SKU").fill(sku);
      await line.getByLabel("Quantity").fill("2");
      await line.getByLabel("Unit price").fill("19.99");
      for (const [label, value] of Object.entries(ADDRESS)) {
        await page.getByLabel(label, { exact: true }).fill(value);
      }
      await page.getByRole("button", { name: "Place order" }).click();
      const status = page.locator("#form-status", { hasText: "placed" });
      await status.waitFor();
      const orderId = /Order (\S+) placed/.exec(await status.innerText())[1];
      await page.locator(`#orders tbody tr[data-order-id="${orderId}"]`).waitFor();
      return orderId;
    }

    async function openDetail(orderId) {
      await page.locator(`#orders tbody tr[data-order-id="${orderId}"] a`).click();
      await page.locator("#detail-view:not([hidden]) #detail-history li").first().waitFor();
    }

    async function backToList() {
      await page.getByRole("link", { name: "All orders" }).click();
      await page.locator("#list-view:not([hidden])").waitFor();
    }

    await page.goto(`${base}/`);
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.locator("#orders tbody tr").first().waitFor();
    await page.evaluate(() => {
      window.sameDocument = true;
    });
    emit("opened", { rows: await listed(), look: await look("list") });

    // One order's whole life: placed, confirmed, shipped; its detail follows it.
    const shippedId = await placeOrder("cust-life", "LIFE-1");
    await openDetail(shippedId);
    const placed = await detail();
    const placedLook = await look("detail-placed");
    await page.getByRole("button", { name: "Confirm order" }).click();
    const confirmed = await historyOf(2);
    await page.getByLabel("Tracking number").fill("1Z999AA10123456784");
    await page.getByRole("button", { name: "Ship order" }).click();
    const shipped = await historyOf(3);
    emit("shipped", {
      orderId: shippedId,
      placed,
      confirmed,
      shipped,
      look: placedLook,
      shippedLook: await look("detail-shipped"),
    });
    await backToList();
    await page.locator(`#orders tbody tr[data-order-id="${shippedId}"][data-status="SHIPPED"]`).waitFor();

    // Another one cancelled, with a reason.
    const cancelledId = await placeOrder("cust-life", "LIFE-2");
    await openDetail(cancelledId);
    await page.getByLabel("Reason to cancel").fill("customer changed their mind");
    await page.getByRole("button", { name: "Cancel order" }).click();
    const cancelled = await historyOf(2);
    emit("cancelled", { orderId: cancelledId, cancelled });
    await backToList();

    // Paging: forwards to the last page, and back to the newest.
    const pages = [await listed()];
    await command("page");
    while (await page.locator("#older").isEnabled()) {
      const first = await page.locator("#orders tbody tr").first().getAttribute("data-order-id");
      await page.locator("#older").click();
      await page.locator(`#orders tbody tr[data-order-id="${first}"]`).waitFor({ state: "detached" });
      pages.push(await listed());
    }
    const backwards = [];
    while (await page.locator("#newer").isEnabled()) {
      const first = await page.locator("#orders tbody tr").first().getAttribute("data-order-id");
      await page.locator("#newer").click();
      await page.locator(`#orders tbody tr[data-order-id="${first}"]`).waitFor({ state: "detached" });
      backwards.push(await listed());
    }
    emit("paged", { pages, backwards, label: await page.locator("#page-label").innerText() });

    // The filter: PLACED orders only, and it stays live (departures and arrivals).
    await page.getByLabel("Status").selectOption("PLACED");
    await page.locator("#orders-title", { hasText: "PLACED" }).waitFor();
    await page.waitForFunction(() =>
      [...document.querySelectorAll("#orders tbody tr")].every((tr) => tr.dataset.status === "PLACED"),
    );
    emit("filtered", { rows: await listed(), look: await look("filtered") });
    const { confirmedId, placedId, expected } = await command("changed-elsewhere");
    await page.locator(`#orders tbody tr[data-order-id="${placedId}"]`).waitFor();
    const live = await listShows(expected);
    emit("filtered-live", {
      rows: live,
      gone: (await page.locator(`#orders tbody tr[data-order-id="${confirmedId}"]`).count()) === 0,
      sameDocument: await page.evaluate(() => window.sameDocument === true),
      announced: await page.locator("#announcer").innerText(),
    });
    await page.getByLabel("Status").selectOption("CONFIRMED");
    await page.locator(`#orders tbody tr[data-order-id="${confirmedId}"]`).waitFor();
    emit("confirmed-list", { rows: await listed(), look: await look("confirmed"), problems });
  } finally {
    await browser.close();
  }
});
