-- 0001: the schema of the last release without numbered migrations (localsentry before this file existed).
-- Every statement is `IF NOT EXISTS`, so a database made by that release (PRAGMA user_version 0, its tables
-- already there) passes through unchanged; the migration runner records the version after it.
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (
  id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created TEXT NOT NULL,
  features TEXT NOT NULL DEFAULT '[]', settings TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS tokens (
  id INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, scopes TEXT NOT NULL,
  org_id INTEGER, name TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS teams (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL,
  created TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS teams_slug ON teams(org_id, slug) WHERE deleted = 0;
CREATE TABLE IF NOT EXISTS projects (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL,
  platform TEXT, created TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
  data TEXT NOT NULL DEFAULT '{}', first_event TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS projects_slug ON projects(org_id, slug) WHERE deleted = 0;
CREATE TABLE IF NOT EXISTS project_teams (
  project_id INTEGER NOT NULL, team_id INTEGER NOT NULL, PRIMARY KEY (project_id, team_id));
CREATE TABLE IF NOT EXISTS project_redirects (
  org_id INTEGER NOT NULL, slug TEXT NOT NULL, project_id INTEGER NOT NULL, PRIMARY KEY (org_id, slug));
CREATE TABLE IF NOT EXISTS keys (
  id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, public TEXT NOT NULL UNIQUE, secret TEXT NOT NULL,
  label TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, rl_count INTEGER, rl_window INTEGER,
  browser_sdk TEXT NOT NULL, loader TEXT NOT NULL, created TEXT NOT NULL, use_case TEXT NOT NULL DEFAULT 'user',
  deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS environments (
  id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, name TEXT NOT NULL, hidden INTEGER NOT NULL DEFAULT 0,
  UNIQUE (project_id, name));
CREATE TABLE IF NOT EXISTS workflows (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, data TEXT NOT NULL, created TEXT NOT NULL,
  updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS detectors (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, project_id INTEGER NOT NULL, type TEXT NOT NULL,
  data TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rules (
  id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, data TEXT NOT NULL, created TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS alert_rules (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, data TEXT NOT NULL, created TEXT NOT NULL,
  updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, key_id INTEGER NOT NULL, event_id TEXT,
  type TEXT NOT NULL, environment TEXT, release TEXT, received REAL NOT NULL, timestamp REAL,
  payload TEXT NOT NULL, headers TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS items_project ON items(project_id, type, id);
CREATE INDEX IF NOT EXISTS items_event ON items(project_id, event_id);
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, project_id INTEGER NOT NULL, key_id INTEGER NOT NULL,
  kind TEXT NOT NULL, trace_id TEXT, record_id TEXT, environment TEXT, release TEXT, timestamp REAL,
  received REAL NOT NULL, payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_project ON records(project_id, kind, id);
CREATE INDEX IF NOT EXISTS records_trace ON records(trace_id);
CREATE TABLE IF NOT EXISTS monitors (
  id INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, org_id INTEGER NOT NULL, project_id INTEGER NOT NULL,
  slug TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active', is_muted INTEGER NOT NULL DEFAULT 0,
  owner TEXT, config TEXT NOT NULL, created TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS monitors_slug ON monitors(org_id, slug) WHERE deleted = 0;
CREATE TABLE IF NOT EXISTS monitor_envs (
  id INTEGER PRIMARY KEY, monitor_id INTEGER NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active',
  is_muted INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL, last_checkin REAL, next_checkin REAL,
  next_checkin_latest REAL, incident_start REAL, UNIQUE (monitor_id, name));
CREATE TABLE IF NOT EXISTS checkins (
  id INTEGER PRIMARY KEY, guid TEXT NOT NULL, monitor_id INTEGER NOT NULL, env_id INTEGER NOT NULL,
  status TEXT NOT NULL, duration INTEGER, date_added REAL NOT NULL, date_updated REAL NOT NULL,
  date_in_progress REAL, date_clock REAL NOT NULL, expected_time REAL, timeout_at REAL, trace_id TEXT,
  config TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS checkins_monitor ON checkins(monitor_id, id);
CREATE INDEX IF NOT EXISTS checkins_guid ON checkins(guid);
CREATE TABLE IF NOT EXISTS groups (
  id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, hash TEXT NOT NULL, short_seq INTEGER NOT NULL,
  title TEXT NOT NULL, culprit TEXT, level TEXT NOT NULL, type TEXT NOT NULL, metadata TEXT NOT NULL,
  platform TEXT, status TEXT NOT NULL DEFAULT 'unresolved', substatus TEXT DEFAULT 'new',
  is_bookmarked INTEGER NOT NULL DEFAULT 0, has_seen INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, UNIQUE (project_id, hash));
CREATE TABLE IF NOT EXISTS project_item_types (
  project_id INTEGER NOT NULL, type TEXT NOT NULL, PRIMARY KEY (project_id, type));
CREATE TABLE IF NOT EXISTS releases (
  id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, version TEXT NOT NULL, UNIQUE (project_id, version));
CREATE TABLE IF NOT EXISTS org_releases (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, version TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}',
  created TEXT NOT NULL, UNIQUE (org_id, version));
CREATE TABLE IF NOT EXISTS deploys (
  id INTEGER PRIMARY KEY, release_id INTEGER NOT NULL, environment TEXT NOT NULL, name TEXT, url TEXT,
  date_started TEXT, date_finished TEXT NOT NULL, projects TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS outcomes (
  key_id INTEGER NOT NULL, ts INTEGER NOT NULL, outcome TEXT NOT NULL, category TEXT NOT NULL,
  n INTEGER NOT NULL, PRIMARY KEY (key_id, ts, outcome, category));
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL);
