// GraphiQL served by the server itself, with every script and style from the binary:
// no CDN, so it loads in mainland China and in closed networks. Queries go to
// /graphql over HTTP and subscriptions over WebSocket (graphql-transport-ws).
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createRoot } from "react-dom/client";
import "graphiql/graphiql.css";

const socketScheme = window.location.protocol === "https:" ? "wss:" : "ws:";
const fetcher = createGraphiQLFetcher({
  url: "/graphql",
  subscriptionUrl: `${socketScheme}//${window.location.host}/graphql`,
});

const root = document.getElementById("graphiql");
if (root) {
  createRoot(root).render(<GraphiQL fetcher={fetcher} />);
}
