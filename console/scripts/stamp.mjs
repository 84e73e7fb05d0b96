// After `vite build`: writes a Brotli and a gzip copy beside every script, style and
// page in dist (the server sends the one the browser accepts, so nothing is compressed
// per request), then dist/SOURCE_HASH: the SHA-256 of everything the build reads from
// this folder (sources, pages, configuration, locked dependencies). A server test
// recomputes it and fails when `dist` was not rebuilt after a change (tests/api/console.rs).
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

/** What the build reads; tests/api/console.rs lists the same, in the same order. */
const roots = [
  "src",
  "index.html",
  "graphiql.html",
  "codegen.ts",
  "vite.config.ts",
  "tsconfig.json",
  "package.json",
  "package-lock.json",
];

function files(path) {
  if (statSync(path).isDirectory()) {
    return readdirSync(path).sort().flatMap((name) => files(join(path, name)));
  }
  return [path];
}

for (const file of files("dist")) {
  if (!/\.(js|css|html|svg)$/.test(file)) continue;
  const body = readFileSync(file);
  writeFileSync(`${file}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
}

const hash = createHash("sha256");
for (const file of roots.flatMap(files)) {
  hash.update(file.replaceAll("\\", "/"));
  hash.update("\0");
  hash.update(readFileSync(file));
  hash.update("\0");
}
writeFileSync("dist/SOURCE_HASH", hash.digest("hex") + "\n");
