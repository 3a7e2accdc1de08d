// Opens GraphiQL at argv[2]/graphql in a new profile, for tests/graph/http/test_graphiql_welcome.py:
// reports the title and the editor's text, runs the first operation of the example (Ctrl-Enter
// with the cursor in it) and reports the result, then opens the docs of the Query type and
// reports the `order` field's description and how many line breaks the descriptions hold.
// With $SCREENSHOT_DIR set it saves a screenshot of each step there.
"use strict";

const path = require("node:path");
const { emit, launchChromium, run } = require("./harness.cjs");

async function shot(page, name) {
  if (process.env.SCREENSHOT_DIR) {
    await page.screenshot({ path: path.join(process.env.SCREENSHOT_DIR, `${name}.png`) });
  }
}

run(async () => {
  const base = process.argv[2];
  const browser = await launchChromium();
  const problems = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(15000);
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    await page.goto(`${base}/graphql`);
    const editor = page.locator(".graphiql-query-editor .CodeMirror");
    await editor.waitFor();
    emit("opened", {
      title: await page.title(),
      editorText: await page.evaluate(() =>
        document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.getValue(),
      ),
    });
    await shot(page, "graphiql-opened");

    // The cursor on the query's first line, then Ctrl-Enter: the operation under the cursor.
    await page.evaluate(() => {
      const cm = document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror;
      const line = cm.getValue().split("\n").findIndex((text) => text.startsWith("query "));
      cm.focus();
      cm.setCursor({ line: line + 1, ch: 4 });
    });
    await page.keyboard.press("Control+Enter");
    const result = page.locator(".result-window");
    await result.getByText('"totalCount"').waitFor();
    emit("ran", { text: await result.innerText(), problems });
    await shot(page, "graphiql-ran");

    await page.getByRole("button", { name: /Show Documentation Explorer/ }).click();
    await page.locator(".graphiql-doc-explorer").getByText("Query", { exact: true }).click();
    const field = page.locator(".graphiql-doc-explorer-field-name", { hasText: /^order$/ });
    await field.first().click();
    const description = page.locator(".graphiql-doc-explorer .graphiql-markdown-description");
    await description.first().waitFor();
    await shot(page, "graphiql-docs");
    emit("docs", {
      order: await description.first().innerText(),
      breaks: await page.locator(".graphiql-doc-explorer .graphiql-markdown-description br").count(),
    });
  } finally {
    await browser.close();
  }
});
