"""The resource types the ``sentrystacks`` provider plugin serves: type token -> provider and typed state.

One entry per Sentry object the toolkit manages. The token is ``sentrystacks:index:<Name>``; ``<Name>`` is also the
name the dynamic providers of earlier releases used (``pulumi-python:dynamic/sentry:<Name>``), so a stack made by
them upgrades in place through a type alias (:mod:`infra.components.sentry_resources`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.provider.resource import PACKAGE
from infra.sentry.alert import AlertProvider
from infra.sentry.alert_model import AlertState
from infra.sentry.base import SentryProvider
from infra.sentry.client_key import ClientKeyProvider
from infra.sentry.client_key_model import ClientKeyState
from infra.sentry.cron_monitor import CronMonitorProvider
from infra.sentry.cron_monitor_model import CronMonitorState
from infra.sentry.deploy import DeployProvider, DeployStartProvider, DeployStartState, DeployState
from infra.sentry.inbound_filter import InboundFilterProvider, InboundFilterState
from infra.sentry.issue_alert import IssueAlertProvider, IssueAlertState
from infra.sentry.metric_alert import MetricAlertProvider, MetricAlertState
from infra.sentry.metric_monitor import MetricMonitorProvider
from infra.sentry.metric_monitor_model import MetricMonitorState
from infra.sentry.project import ProjectProvider
from infra.sentry.project_model import ProjectState
from infra.sentry.release import ReleaseProvider, ReleaseState
from infra.sentry.shape import SentryModel
from infra.sentry.source_maps import SourceMapsProvider, SourceMapsState

#: the type of the dynamic providers of earlier releases, for the aliases that upgrade their stacks in place
LEGACY_TYPE = "pulumi-python:dynamic/sentry:{name}"


@dataclass(frozen=True)
class Kind:
    """One resource type: its name, the provider that serves it, and its typed state (inputs and outputs)."""

    name: str
    provider: type[SentryProvider[Any]]
    state: type[SentryModel]
    description: str

    @property
    def token(self) -> str:
        return token(self.name)

    @property
    def inputs(self) -> type[SentryModel]:
        return self.provider.inputs_type


def token(name: str) -> str:
    return f"{PACKAGE}:index:{name}"


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("Project", ProjectProvider, ProjectState, "A Sentry project, optionally shared by every stack of an app"),
    Kind("ClientKey", ClientKeyProvider, ClientKeyState, "A client key (DSN) of a project"),
    Kind("InboundFilter", InboundFilterProvider, InboundFilterState, "One of a project's inbound data filters"),
    Kind("Alert", AlertProvider, AlertState, "An alert: a Sentry workflow on issue streams and monitors"),
    Kind("MetricMonitor", MetricMonitorProvider, MetricMonitorState, "A metric monitor (a metric_issue detector)"),
    Kind("CronMonitor", CronMonitorProvider, CronMonitorState, "A cron monitor a scheduled job checks in to"),
    Kind("Release", ReleaseProvider, ReleaseState, "A release in every project of the stack"),
    Kind("DeployStart", DeployStartProvider, DeployStartState, "When the rollout of a configuration began"),
    Kind("Deploy", DeployProvider, DeployState, "The record that a release reached an environment"),
    Kind("SourceMaps", SourceMapsProvider, SourceMapsState,
         "A build's source maps in a project for a release, uploaded once with sentry-cli"),
    Kind("IssueAlert", IssueAlertProvider, IssueAlertState, "A legacy issue alert rule (Sentry before 26.7)"),
    Kind("MetricAlert", MetricAlertProvider, MetricAlertState, "A legacy metric alert rule (Sentry before 26.7)"),
)}
BY_TOKEN: dict[str, Kind] = {k.token: k for k in KINDS.values()}

__all__ = ["BY_TOKEN", "KINDS", "LEGACY_TYPE", "PACKAGE", "Kind", "token"]
