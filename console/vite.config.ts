// The pages the server binary embeds from `dist` (see src/http/console.rs). Asset
// names carry a content hash, so the server lets browsers keep them for a year.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  base: "/console/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    rollupOptions: {
      input: { graphiql: "graphiql.html" },
    },
  },
});
