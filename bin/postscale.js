#!/usr/bin/env node
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const entry = path.join(__dirname, "..", "dist", "src", "cli", "main.js");
if (!fs.existsSync(entry)) {
  process.stderr.write("postscale: the package is not built yet; run `npm run build` first.\n");
  process.exit(1);
}
require(entry).main(process.argv).catch((err) => {
  process.stderr.write(`postscale: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
