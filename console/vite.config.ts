// The pages the server binary embeds from `dist` (see src/http/console.rs): the console
// (index.html, served at /console and every address under it) and GraphiQL. Asset names
// carry a content hash, so the server lets browsers keep them for a year.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  base: "/console/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    rollupOptions: {
      input: { console: "index.html", graphiql: "graphiql.html" },
    },
  },
});
