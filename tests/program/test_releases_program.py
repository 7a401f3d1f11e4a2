"""Releases, deploys and cron monitors in the whole program, under Pulumi mocks."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra import program
from tests.program.test_program import Mocks, done, settings
from tests.unit.settings_support import RELEASE, ROOT

S = "sentrystacks:index:"


class CronMocks(Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        id_, outs = super().new_resource(args)
        if args.typ == S + "CronMonitor":
            outs.update(detectorId="31", monitorId="m-1")
        elif args.typ == S + "DeployStart":
            outs.update(dateStarted="2026-01-31T12:00:00.000Z")
        elif args.typ == S + "Deploy":
            outs.update(deployId="5", dateFinished="2026-01-31T12:01:00.000Z")
        return id_, outs


@pytest.fixture
def cron_mocks() -> CronMocks:
    m = CronMocks()
    pulumi.runtime.set_mocks(m, project="sentry-stacks", stack="dev", preview=False)
    return m


@pulumi.runtime.test
def test_release_deploy_and_cron_monitor(cron_mocks: CronMocks, tmp_path: Path) -> Any:
    alerts = {"late": {"services": ["worker"], "monitors": ["heartbeat", "error-spike"],
                       "actions": [{"type": "email"}]}}
    s = settings("dev", tmp_path, alerts=alerts)
    p = program.build(s, root=ROOT)
    deploy = p.sentry.release

    def check(_: Any) -> None:
        [cron] = cron_mocks.of(S + "CronMonitor").values()
        assert cron.name == "dev-cron-heartbeat"
        assert {k: cron.inputs.get(k) for k in ("project", "slug", "name", "scheduleType", "schedule", "timezone",
                                                 "checkinMargin", "maxRuntime", "environment", "status")} == {
            "project": "sentry-stacks-demo-backend", "slug": "heartbeat-dev",
            "name": "[sentry-stacks-demo/dev] heartbeat",
            "scheduleType": "crontab", "schedule": "* * * * *", "timezone": "UTC", "checkinMargin": 1,
            "maxRuntime": 2, "environment": "development", "status": "active"}
        [release] = cron_mocks.of(S + "Release").values()
        assert release.name == "dev-release" and release.inputs["version"] == RELEASE
        assert sorted(release.inputs["projects"]) == ["sentry-stacks-demo-backend", "sentry-stacks-demo-frontend"]
        assert release.inputs["shared"] is True
        compose_file = cron_mocks.of("pulumi-python:dynamic/files:RenderedFile")["dev-docker-compose.yml"]
        sha = hashlib.sha256(compose_file.inputs["content"].encode()).hexdigest()
        [start] = cron_mocks.of(S + "DeployStart").values()
        assert start.inputs == {"version": RELEASE, "environment": "development", "fingerprint": sha}
        [record] = cron_mocks.of(S + "Deploy").values()
        assert record.name == "dev-sentry-deploy"
        assert {k: record.inputs[k] for k in ("version", "environment", "name", "dateStarted", "fingerprint")} == {
            "version": RELEASE, "environment": "development", "name": f"dev-{sha[:12]}",
            "dateStarted": "2026-01-31T12:00:00.000Z", "fingerprint": sha}
        alert = cron_mocks.of(S + "Alert")["dev-alert-late"]
        assert sorted(alert.inputs["detectorIds"]) == ["31", "7"]  # the cron monitor's and the metric monitor's

    assert deploy is not None and p.outputs["cronMonitors"].keys() == {"heartbeat"}
    return pulumi.Output.all(done(p), p.outputs["sentryDeploy"]).apply(check)


@pulumi.runtime.test
def test_release_tracking_off_records_nothing(cron_mocks: CronMocks, tmp_path: Path) -> Any:
    p = program.build(settings("prod", tmp_path, releaseTracking={"enabled": False}, cronMonitors={}), root=ROOT)

    def check(_: Any) -> None:
        kinds = {r.typ.rsplit(":", 1)[-1] for r in cron_mocks.resources}
        assert not kinds & {"Release", "DeployStart", "Deploy", "CronMonitor"}, kinds
        assert p.outputs["sentryRelease"] is None and p.outputs["sentryDeploy"] is None

    return done(p).apply(check)


@pulumi.runtime.test
def test_deploys_off_keeps_the_release(cron_mocks: CronMocks, tmp_path: Path) -> Any:
    p = program.build(settings("prod", tmp_path, releaseTracking={"deploys": False}), root=ROOT)

    def check(_: Any) -> None:
        kinds = {r.typ.rsplit(":", 1)[-1] for r in cron_mocks.resources}
        assert "Release" in kinds and not kinds & {"DeployStart", "Deploy"}, kinds

    return done(p).apply(check)
