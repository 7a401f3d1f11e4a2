-- 0005: source maps (issue 25), stored as Sentry stores them: chunks by SHA-1 (file_blobs), artifact bundles made of
-- chunks (a bundle's bytes are its chunks in order, as Sentry's File is its FileBlobIndex), each bundle bound to
-- projects and to releases (with their dist, '' when none), the files a bundle holds with their URL, type and debug
-- id (what symbolication and the lookup endpoints search), and the state of each assembly by checksum.
CREATE TABLE IF NOT EXISTS file_blobs (
  org_id INTEGER NOT NULL, checksum TEXT NOT NULL, size INTEGER NOT NULL, data BLOB NOT NULL, created REAL NOT NULL,
  PRIMARY KEY (org_id, checksum));
CREATE TABLE IF NOT EXISTS artifact_bundles (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, bundle_id TEXT NOT NULL, checksum TEXT NOT NULL,
  chunks TEXT NOT NULL, size INTEGER NOT NULL, file_count INTEGER NOT NULL, date_uploaded TEXT NOT NULL,
  date_modified TEXT NOT NULL, UNIQUE (org_id, bundle_id));
CREATE TABLE IF NOT EXISTS project_artifact_bundles (
  project_id INTEGER NOT NULL, bundle_id INTEGER NOT NULL, date_added TEXT NOT NULL,
  PRIMARY KEY (project_id, bundle_id));
CREATE TABLE IF NOT EXISTS release_artifact_bundles (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, release TEXT NOT NULL, dist TEXT NOT NULL DEFAULT '',
  bundle_id INTEGER NOT NULL, date_added TEXT NOT NULL, UNIQUE (org_id, release, dist, bundle_id));
CREATE TABLE IF NOT EXISTS artifact_bundle_files (
  bundle_id INTEGER NOT NULL, path TEXT NOT NULL, url TEXT NOT NULL, type TEXT NOT NULL, debug_id TEXT,
  headers TEXT NOT NULL DEFAULT '{}', size INTEGER NOT NULL, PRIMARY KEY (bundle_id, path));
CREATE INDEX IF NOT EXISTS artifact_bundle_files_debug_id ON artifact_bundle_files(debug_id);
CREATE INDEX IF NOT EXISTS artifact_bundle_files_url ON artifact_bundle_files(url);
CREATE TABLE IF NOT EXISTS assemble_status (
  org_id INTEGER NOT NULL, checksum TEXT NOT NULL, state TEXT NOT NULL, detail TEXT, updated REAL NOT NULL,
  PRIMARY KEY (org_id, checksum));
-- Release files: the older one-file-at-a-time upload (`POST …/releases/{version}/files/`), by name (the file's URL,
-- `~/…` or absolute) per release and dist; the bytes are one blob of file_blobs (by SHA-1).
CREATE TABLE IF NOT EXISTS release_files (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, release TEXT NOT NULL, dist TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL, checksum TEXT NOT NULL, size INTEGER NOT NULL, headers TEXT NOT NULL DEFAULT '{}',
  created TEXT NOT NULL, UNIQUE (org_id, release, dist, name));
