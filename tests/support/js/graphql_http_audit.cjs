// The graphql-http conformance audit (auditServer) against a running server.
// Usage: node graphql_http_audit.cjs URL; prints one JSON line: {"event": "audited", "results": [...]}.
"use strict";

const { auditServer } = require("graphql-http");

async function main() {
  const url = process.argv[2];
  const results = await auditServer({ url });
  const summary = results.map((result) => ({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === "ok" ? undefined : result.reason,
  }));
  process.stdout.write(JSON.stringify({ event: "audited", results: summary }) + "\n");
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
