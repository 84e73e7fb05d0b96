// Writes src/gql/SCHEMA_HASH: the SHA-256 of the schema the operation types were
// generated from. A server test compares it with ../schema.graphql and fails when the
// schema changed without `npm run codegen` (see tests/api/console.rs).
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

const hash = createHash("sha256").update(readFileSync("../schema.graphql")).digest("hex");
writeFileSync("src/gql/SCHEMA_HASH", hash + "\n");
