// GraphiQL at argv[2]/graphql: a subscription typed in and run at once, before the editor has
// parsed it (its debounce is 100 ms), so GraphiQL's fetcher POSTs it over HTTP instead of
// opening its WebSocket. Reports the result window's text as the views arrive and which
// requests carried the subscription, for tests/graph/http/test_graphiql_subscriptions.py. Closing
// the browser ends the stream (GraphiQL's multipart fetcher has no way to abort its request).
// Usage: node graphiql_subscription.cjs BASE ORDER_ID
"use strict";

const { command, emit, openContext, run } = require("./harness.cjs");

run(async () => {
  const [base, orderId] = process.argv.slice(2);
  const { context, close } = await openContext({ offline: true });
  const problems = [];
  const requests = [];
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(15000);
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    page.on("websocket", (socket) => requests.push({ websocket: socket.url() }));
    page.on("request", (request) => {
      const body = request.postData() || "";
      if (body.includes("orderUpdated")) {
        requests.push({ method: request.method(), accept: request.headers().accept });
      }
    });

    await page.goto(`${base}/graphql?q=${encodeURIComponent("{ __typename }")}`);
    await page.locator(".graphiql-query-editor .CodeMirror").waitFor();
    const subscription =
      `subscription { orderUpdated(id: "${orderId}", afterPosition: 0) { id status } }`;
    await page.evaluate((text) => {
      document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.setValue(text);
      document.querySelector(".graphiql-execute-button").click();
    }, subscription);
    const result = page.locator(".result-window");
    await result.getByText('"PLACED"').waitFor();
    emit("placed", { text: await result.innerText(), requests, problems });

    await command("confirmed");
    await result.getByText('"CONFIRMED"').waitFor();
    emit("confirmed", { text: await result.innerText(), problems });

    await command("close");
  } finally {
    await close();
  }
});
