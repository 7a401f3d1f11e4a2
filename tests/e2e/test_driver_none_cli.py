"""`driver: none` and one source per cron monitor, through the real CLI against a real localsentry (no container).

The reference app's dev stack with `driver: none`: `up` creates the Sentry side and renders the files and runs
nothing; the outputs carry each service's environment (secret). Changing the heartbeat's schedule in the stack file
changes both sides in one `up`: the Sentry monitor, and beat's rendered environment (env file and compose file),
which the runtime package turns into the Celery beat entry. A DSN rotation stops after the files and says what the
pipeline must do.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from celery import Celery

from infra.render import parse_dotenv
from sentry_stacks_runtime import cron_monitor
from sentry_stacks_runtime.celery import configure_beat
from tests.e2e.pulumi_support import ROOT
from tests.e2e.stack_support import AppStack, copy_project
from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppStack, LocalSentry]]:
    tmp = tmp_path_factory.mktemp("none")
    ls = LocalSentry.start(tmp / "ls")
    app = None
    try:  # a skip or failure while creating the stack stops localsentry too
        app = AppStack.create(copy_project(tmp / "proj", ls), "dev", f"none-{uuid.uuid4().hex[:6]}")
        app.config_set("sentry-stacks:driver", "none")
        # an image no machine has: nothing runs here, so nothing checks it
        app.run("config", "set", "--path", "sentry-stacks:serviceOverrides.backend.image", "registry.invalid/none:1")
        yield app, ls
    finally:
        if app is not None:
            app.run("destroy", "--yes", check=False)
        ls.stop()


def files(app: AppStack) -> dict[str, Path]:
    return {name: Path(path) for name, path in app.outputs()["files"].items()}


def beat_monitor(app: AppStack, ls: LocalSentry) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """The heartbeat as Sentry has it, beat's rendered env file, and beat's service in the rendered compose file."""
    monitor = ls.get_json(f"/api/0/organizations/{ls.org}/monitors/heartbeat-dev/")
    paths = files(app)
    env = parse_dotenv(paths["beat.env"].read_text())
    compose = yaml.safe_load(paths["docker-compose.yml"].read_text())["services"]["beat"]
    return monitor, env, compose


def test_up_creates_the_sentry_side_and_the_files_and_runs_nothing(stack: tuple[AppStack, LocalSentry]) -> None:
    app, _ = stack
    preview = app.run("preview", "--diff")
    assert "registry.invalid" not in preview.stderr and "cannot get its image" not in preview.stdout
    app.up()
    outputs = app.outputs(show_secrets=True)
    assert outputs["driver"] == "none" and outputs.get("sentryDeploy") is None and outputs["sentryRelease"]
    running = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project="
                              f"{outputs['composeProject']}"], capture_output=True, text=True, check=False)  # fmt: skip
    assert running.stdout.strip() == ""
    # what a pipeline reads: each service's environment, exactly its rendered file, and secret in the state
    for service, path in ((n.removesuffix(".env"), p) for n, p in files(app).items() if n.endswith(".env")):
        assert outputs["serviceEnvs"][service] == parse_dotenv(path.read_text()), service
    assert outputs["serviceEnvs"]["worker"]["SENTRY_DSN"] == outputs["dsns"]["backend"]
    assert "serviceEnvs" in app.outputs() and outputs["dsns"]["backend"] not in json.dumps(app.outputs())
    assert outputs["dsns"]["backend"] not in app.state_text()
    app.run("preview", "--expect-no-changes")


def test_a_new_schedule_in_the_stack_file_changes_sentry_and_beat_together(
        stack: tuple[AppStack, LocalSentry]) -> None:  # fmt: skip
    app, ls = stack
    monitor, env, compose = beat_monitor(app, ls)
    assert monitor["config"]["schedule"] == "* * * * *"
    assert cron_monitor("heartbeat", env).crontab == "* * * * *"
    assert compose["environment"]["SENTRY_STACKS_CRON_MONITORS"] == env["SENTRY_STACKS_CRON_MONITORS"]
    stack_file = app.workdir / "Pulumi.dev.yaml"
    doc = yaml.safe_load(stack_file.read_text())
    doc["config"]["sentry-stacks:cronMonitors"] = {
        "heartbeat": {"service": "beat", "schedule": "*/5 * * * *", "timezone": "Europe/Berlin", "maxRuntimeMinutes": 2}
    }
    stack_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    preview = app.run("preview", "--diff")
    assert "dev-cron-heartbeat" in preview.stdout and "dev-beat.env" in preview.stdout
    app.up()
    monitor, env, compose = beat_monitor(app, ls)
    assert (monitor["config"]["schedule"], monitor["config"]["timezone"]) == ("*/5 * * * *", "Europe/Berlin")
    heartbeat = cron_monitor("heartbeat", env)
    assert (heartbeat.slug, heartbeat.crontab, heartbeat.timezone) == ("heartbeat-dev", "*/5 * * * *",
                                                                       "Europe/Berlin")
    assert compose["environment"]["SENTRY_STACKS_CRON_MONITORS"] == env["SENTRY_STACKS_CRON_MONITORS"]
    beat = Celery("demo", set_as_current=False)
    [entry] = configure_beat(beat, {"heartbeat": "demoapp.heartbeat"}, env).items()
    assert entry[0] == monitor["slug"] and beat.conf.timezone == monitor["config"]["timezone"]
    assert entry[1]["schedule"]._orig_minute == "*/5" and entry[1]["schedule"]._orig_hour == "*"
    assert "SENTRY_STACKS_CRON_MONITORS" not in parse_dotenv(files(app)["worker.env"].read_text())
    app.run("preview", "--expect-no-changes")


def test_a_rotation_stops_after_the_files_and_says_what_the_pipeline_must_do(
        stack: tuple[AppStack, LocalSentry]) -> None:  # fmt: skip
    app, _ = stack
    rotate = [str(ROOT / "venv" / "bin" / "python"), str(ROOT / "scripts" / "rotate-dsn"), "--stack", "dev", "--cwd",
              str(app.workdir), "--service", "backend"]  # fmt: skip
    started = subprocess.run([*rotate, "start"], env=app.env(), capture_output=True, text=True, timeout=600)
    assert started.returncode == 0, started.stdout + started.stderr
    outputs = app.outputs(show_secrets=True)
    new = outputs["sentryKeys"]["backend"]["g2"]
    assert "probe event" in started.stdout  # the new key was verified by a real ingest round trip
    assert "driver none: this stack deploys no container, so the start stops after the files." in started.stdout
    assert "redeploy backend, beat, worker with your pipeline" in started.stdout
    next_step = r"run `\S*scripts/rotate-dsn --stack dev --service backend finish`"  # the command as it ran
    assert re.search(next_step, started.stdout), started.stdout
    assert new["id"] in files(app)["backend.env"].read_text() and new["id"] in files(app)["worker.env"].read_text()
    assert outputs["serviceEnvs"]["backend"]["SENTRY_DSN"] == new["dsn"]
    status = subprocess.run([*rotate, "status"], env=app.env(), capture_output=True, text=True, timeout=300)
    assert "driver none: your pipeline runs them" in status.stdout, status.stdout + status.stderr
    aborted = subprocess.run([*rotate, "abort"], env=app.env(), capture_output=True, text=True, timeout=600)
    assert aborted.returncode == 0 and "the abort stops after the files" in aborted.stdout
