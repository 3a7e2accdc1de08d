// Runs the code docs/clients.md's codegen section compiled (codegen/dist/status.js, beside this
// script) against the service: the status of the order argv[2] names.
import { emit } from "./harness.cjs";

const { client, statusOf } = await import("./codegen/dist/status.js");
emit("status", { status: await statusOf(client, process.argv[2]) });
process.exit(0);
