// Entry of the console page (index.html).
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app";
import "./console.css";

const root = document.getElementById("console");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
