-- 0004: what localsentry evaluates and delivers, as Sentry's workflow engine keeps it.
-- workflow_fires: each firing of a workflow for an issue (Sentry's WorkflowFireHistory), read by the workflow's
--   group-history and by its `config.frequency` (minutes between two firings for one issue).
-- deliveries: the outbox of the actions of each firing (email, webhook, Slack), sent by a worker thread; a pending
--   delivery survives a restart and is sent then.
-- group_activity: an issue's activity (first_seen, set_regression, set_unresolved, set_resolved, set_ignored).
-- detector_state: the last evaluation of a metric monitor (its priority and the issue it opened).
-- mail: the messages received by the built-in SMTP server (--smtp-port); webhook_inbox: the POSTs received by
--   the built-in webhook receiver (`/_localsentry/hooks/{name}`).
-- groups.detector_id: the detector whose issue this is (a metric or cron issue); groups.priority: a priority set
--   by a detector (75 high, 50 medium, 25 low), else it follows the level; groups.ignore_until: an issue archived
--   until it has this many events.
CREATE TABLE workflow_fires (
  id INTEGER PRIMARY KEY, workflow_id INTEGER NOT NULL, group_id INTEGER NOT NULL, event_id TEXT,
  detector_id INTEGER, reason TEXT NOT NULL, date_added REAL NOT NULL);
CREATE INDEX workflow_fires_workflow ON workflow_fires(workflow_id, group_id, date_added);
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY, fire_id INTEGER, workflow_id INTEGER, action_id TEXT, type TEXT NOT NULL,
  target TEXT NOT NULL, request TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL NOT NULL, detail TEXT, created REAL NOT NULL,
  finished REAL);
CREATE INDEX deliveries_pending ON deliveries(status, next_attempt);
CREATE INDEX deliveries_fire ON deliveries(fire_id);
CREATE TABLE group_activity (
  id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}',
  created REAL NOT NULL);
CREATE INDEX group_activity_group ON group_activity(group_id, id);
CREATE TABLE detector_state (
  detector_id INTEGER PRIMARY KEY, priority INTEGER NOT NULL DEFAULT 0, group_id INTEGER, value REAL,
  evaluated REAL, changed REAL);
CREATE TABLE mail (
  id INTEGER PRIMARY KEY, received REAL NOT NULL, mail_from TEXT, rcpt_to TEXT NOT NULL, subject TEXT,
  message TEXT NOT NULL);
CREATE TABLE webhook_inbox (
  id INTEGER PRIMARY KEY, received REAL NOT NULL, name TEXT NOT NULL, headers TEXT NOT NULL, body TEXT NOT NULL);
ALTER TABLE groups ADD COLUMN detector_id INTEGER;
ALTER TABLE groups ADD COLUMN priority INTEGER;
ALTER TABLE groups ADD COLUMN ignore_until INTEGER;
