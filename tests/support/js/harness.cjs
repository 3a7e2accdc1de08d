// Shared by the node test scripts: JSON-line events to the Python test on stdout, its
// commands from stdin, and Debian's Chromium launched headless with the machine's flags.
"use strict";

const readline = require("node:readline");

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function emit(event, data = {}) {
  process.stdout.write(JSON.stringify({ event, ...data }) + "\n");
}

const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

/** The next command from the test, which must be `name`. */
async function command(name) {
  const { value, done } = await lines.next();
  if (done) throw new Error(`stdin closed while waiting for ${name}`);
  const message = JSON.parse(value);
  if (message.command !== name) throw new Error(`expected ${name}, got ${value}`);
  return message;
}

/** Chromium from /usr/bin (or $CHROMIUM_PATH), with a fresh profile Playwright makes. */
async function launchChromium() {
  const { chromium } = require("playwright-core");
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_FLAGS,
  });
}

/**
 * A browser context for one test: Chromium's profile (--user-data-dir) in
 * $CHROMIUM_USER_DATA_DIR when set (a fresh folder the test made), else Playwright's own
 * temporary one. With `offline`, host names other than 127.0.0.1 do not even resolve. Returns
 * { context, close }.
 */
async function openContext({ offline = false } = {}) {
  const { chromium } = require("playwright-core");
  const args = offline
    ? [...CHROMIUM_FLAGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
    : CHROMIUM_FLAGS;
  const options = {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args,
  };
  const profile = process.env.CHROMIUM_USER_DATA_DIR;
  if (profile) {
    const context = await chromium.launchPersistentContext(profile, options);
    return { context, close: () => context.close() };
  }
  const browser = await chromium.launch(options);
  const context = await browser.newContext();
  return { context, close: () => browser.close() };
}

/** Run `main`, then exit 0; on an error print it and exit 1. */
function run(main) {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
      process.exit(1);
    },
  );
}

module.exports = { command, emit, launchChromium, openContext, run };
