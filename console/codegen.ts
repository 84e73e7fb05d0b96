// Typed operations from the server's schema: `npm run codegen` reads ../schema.graphql
// and every operation in src/**/*.graphql, and writes src/gql/ (committed).
// scripts/schema-stamp.mjs then records the schema's SHA-256 in src/gql/SCHEMA_HASH,
// which a server test compares with schema.graphql, so the types cannot go stale.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.graphql"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", Date: "string", ID: "string" },
      },
    },
  },
};

export default config;
