// The notes web app. Its Sentry setup is the two lines marked "glue" here, the config script in index.html and the
// start step in ../Dockerfile.
import { createRoot } from "react-dom/client";
import { init, Sentry } from "@sentry-stacks/runtime/react";   // glue
import { App, userId } from "./App.jsx";

init({ user: { id: userId() } });                              // glue: DSN, rates, release at run time

createRoot(document.getElementById("root")).render(
  <Sentry.ErrorBoundary fallback={<p>Something went wrong.</p>}>
    <App />
  </Sentry.ErrorBoundary>,
);
