// Opens GraphiQL at argv[2]/graphql with every host but 127.0.0.1 blocked (requests aborted by
// Playwright, and other names unresolvable in Chromium), for tests/graph/http/test_browser_graphiql.py.
// It reports that the editor rendered, then runs a query and reports the result. With argv[3]
// "expect-blank" it reports what the page shows once loaded, without running anything.
"use strict";

const { emit, openContext, run } = require("./harness.cjs");

const QUERY = "{ projections { name state } }";

run(async () => {
  const base = process.argv[2];
  const { context, close } = await openContext({ offline: true });
  const blocked = [];
  const problems = [];
  const loaded = [];
  try {
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === "127.0.0.1") return route.continue();
      blocked.push(route.request().url());
      return route.abort("internetdisconnected");
    });
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(15000);
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    page.on("requestfailed", (request) =>
      problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`),
    );
    page.on("response", (response) => {
      const url = new URL(response.url());
      loaded.push({ path: url.pathname, status: response.status() });
    });

    await page.goto(`${base}/graphql?q=${encodeURIComponent(QUERY)}`);
    if (process.argv[3] === "expect-blank") {
      // The CDN page with its scripts blocked never leaves its placeholder.
      await page.waitForLoadState("load");
      emit("blank", {
        text: await page.locator("#graphiql").innerText(),
        blocked,
        editors: await page.locator(".graphiql-query-editor").count(),
      });
      return;
    }
    const editor = page.locator(".graphiql-query-editor .CodeMirror");
    await editor.waitFor();
    emit("rendered", {
      editor: await editor.count(),
      editorText: await page.locator(".graphiql-query-editor .CodeMirror-code").innerText(),
      title: await page.title(),
    });
    const execute = page.getByRole("button", { name: /Execute query/ });
    await execute.click();
    const result = page.locator(".result-window");
    await result.getByText('"order_views"').waitFor();
    emit("result", { text: await result.innerText(), blocked, problems, loaded });
  } finally {
    await close();
  }
});
