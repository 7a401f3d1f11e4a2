// The backend's URL (PUBLIC_BACKEND_URL, the app's own variable: public, the browser calls it), checked.
export const DEFAULT_BACKEND_URL = "http://127.0.0.1:8000";

export function backendUrl(env) {
  const value = String(env.PUBLIC_BACKEND_URL ?? "").trim().replace(/\/+$/, "") || DEFAULT_BACKEND_URL;
  let parsed = null;
  try {
    parsed = new URL(value);
  } catch {
    parsed = null;
  }
  if (!parsed || !["http:", "https:"].includes(parsed.protocol)) {
    throw new Error(`PUBLIC_BACKEND_URL must be an http(s) URL such as ${DEFAULT_BACKEND_URL}, got ${JSON.stringify(value)}`);
  }
  return value;
}
