// Opens GraphiQL at argv[2]/graphql with every host but 127.0.0.1 blocked, runs a query and
// reports what it showed, for tests/test_browser_graphiql.py. With argv[3] "expect-blank" it
// reports what the page shows once loaded, without running anything.
"use strict";

const { emit, launchChromium, run } = require("./harness.cjs");

const QUERY = "{ projections { name state } }";

run(async () => {
  const base = process.argv[2];
  const browser = await launchChromium();
  const blocked = [];
  const problems = [];
  try {
    const context = await browser.newContext();
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === "127.0.0.1") return route.continue();
      blocked.push(route.request().url());
      return route.abort("internetdisconnected");
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });

    await page.goto(`${base}/graphql?q=${encodeURIComponent(QUERY)}`);
    if (process.argv[3] === "expect-blank") {
      // The CDN page: its scripts were blocked, so the page never leaves "Loading...".
      emit("blank", { text: await page.locator("#graphiql").innerText(), blocked });
      return;
    }
    const run = page.getByRole("button", { name: /Execute query/ });
    await run.waitFor();
    await run.click();
    const result = page.locator(".result-window");
    await result.getByText('"order_views"').waitFor();
    emit("result", { text: await result.innerText(), blocked, problems });
  } finally {
    await browser.close();
  }
});
