// The orders page at argv[2] in headless Chromium at 1400x900: places an order through the
// form, then reports what a person sees: invalid-looking inputs, whether the table is cut,
// and the rows' "Placed" times in order. For tests/graph/http/test_live_page_layout.py.
"use strict";

const { emit, launchChromium, run } = require("./harness.cjs");

run(async () => {
  const base = process.argv[2];
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(10000);
    await page.goto(`${base}/`);
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.locator("#orders tbody tr").first().waitFor();

    await page.getByLabel("Customer id").fill("customer-0001");
    const line = page.getByRole("listitem", { name: "Line 1" });
    await line.getByLabel("SKU").fill("KB-MECH-87");
    await line.getByLabel("Quantity").fill("2");
    await line.getByLabel("Unit price").fill("89.00");
    for (const [label, value] of Object.entries({
      Name: "Grace Hopper",
      "Address line 1": "1 Compiler Street",
      City: "Arlington",
      "Postal code": "22201",
      Country: "US",
    })) {
      await page.getByLabel(label, { exact: true }).fill(value);
    }
    await page.getByRole("button", { name: "Place order" }).click();
    await page.locator("#form-status", { hasText: "placed" }).waitFor();

    const report = await page.evaluate(() => {
      const wrap = document.querySelector(".table-wrap");
      const header = [...document.querySelectorAll("#orders thead th")].map((th) =>
        th.textContent.trim(),
      );
      return {
        userInvalid: [...document.querySelectorAll("input:user-invalid")].map(
          (input) => input.id || input.dataset.name,
        ),
        cut: wrap.scrollWidth > wrap.clientWidth,
        header,
        placed: [...document.querySelectorAll("#orders tbody tr time")].map((t) => t.dateTime),
        lastCell: document.querySelector("#orders tbody tr td:last-child").textContent.trim(),
      };
    });
    emit("seen", report);
  } finally {
    await browser.close();
  }
});
