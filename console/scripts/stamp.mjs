// Writes dist/SOURCE_HASH: the SHA-256 of everything the build reads from this folder
// (sources, pages, configuration, locked dependencies). A server test recomputes it
// and fails when `dist` was not rebuilt after a change (see tests/api/console.rs).
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const roots = ["src", "graphiql.html", "vite.config.ts", "tsconfig.json", "package.json", "package-lock.json"];

function files(path) {
  if (statSync(path).isDirectory()) {
    return readdirSync(path).sort().flatMap((name) => files(join(path, name)));
  }
  return [path];
}

const hash = createHash("sha256");
for (const file of roots.flatMap(files)) {
  hash.update(file.replaceAll("\\", "/"));
  hash.update("\0");
  hash.update(readFileSync(file));
  hash.update("\0");
}
writeFileSync("dist/SOURCE_HASH", hash.digest("hex") + "\n");
