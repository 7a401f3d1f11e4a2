import { useEffect, useState } from "react";
import { Sentry } from "@sentry-stacks/runtime/react";

/** The user of this page: ?user=<id>, remembered for the session (a real app has a login). */
export function userId() {
  const given = new URLSearchParams(window.location.search).get("user");
  if (given) sessionStorage.setItem("notes-user", given);
  return sessionStorage.getItem("notes-user") || `visitor-${Math.random().toString(36).slice(2, 10)}`;
}

export function App() {
  const [notes, setNotes] = useState([]);
  const [status, setStatus] = useState("loading");
  const user = userId();

  useEffect(() => {
    fetch("/api/notes", { headers: { "X-User-Id": user } })
      .then((r) => r.json())
      .then((body) => { setNotes(body.notes); setStatus("ready"); })
      .catch((error) => { Sentry.captureException(error); setStatus("offline"); });
  }, [user]);

  function fail() {
    const run = new URLSearchParams(window.location.search).get("run") || "";
    const eventId = Sentry.captureException(new Error(`notes web failure ${run}`));
    Sentry.flush(10000).then((flushed) => { window.NOTES_DONE = { eventId, flushed }; });
  }

  return (
    <main data-status={status}>
      <h1>Notes</h1>
      <ul>{notes.map((n) => <li key={n.id}>{n.text}</li>)}</ul>
      <button id="fail" onClick={fail}>Report a failure</button>
    </main>
  );
}
