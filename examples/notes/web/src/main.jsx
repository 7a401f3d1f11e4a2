// The notes web app. Its Sentry setup is the two marked lines here and the config script in index.html.
import { createRoot } from "react-dom/client";
import { init, Sentry } from "@sentry-stacks/runtime/react";   // Sentry glue 2/3
import { App, userId } from "./App.jsx";

init({ user: { id: userId() } });                              // Sentry glue 3/3: DSN, rates, release at run time

createRoot(document.getElementById("root")).render(
  <Sentry.ErrorBoundary fallback={<p>Something went wrong.</p>}>
    <App />
  </Sentry.ErrorBoundary>,
);
