// Reads a solc standard-JSON input on stdin, compiles it with the pinned solc-js, writes the output JSON on
// stdout. Invoked by `python -m zkhealth.chain.build`; imports are resolved only from the input's sources.
"use strict";
const solc = require("solc");
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const output = solc.compile(input, { import: (path) => ({ error: "import not in the input: " + path }) });
  process.stdout.write(JSON.stringify({ solcVersion: solc.version(), output: JSON.parse(output) }));
});
