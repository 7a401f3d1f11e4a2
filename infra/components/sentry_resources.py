"""The Sentry resources as a program declares them: each takes its typed inputs, and the provider that serves them.

``Project(name, ProjectInputs(...))`` registers a ``sentrystacks:index:Project`` with the props
:func:`~infra.sentry.shape.props_of` makes of the inputs (the only place they become a dict), an output property for
each output the class declares (``slug``, ``dsn``...: what a program reads; the state keeps every output anyway), its
secret outputs marked secret, and an alias to the type the dynamic providers of earlier releases gave it
(``pulumi-python:dynamic/sentry:Project``): a stack made by them keeps its objects (no create, delete or replace; see
docs/architecture.md). A value another resource gives (an ``Output``) is typed as its
value with :func:`ref` and reaches the props as it is.

:class:`SentryStacks` is the explicit provider, made from the stack's ``sentry:`` config (the token as the secret it is
in the stack file: only the provider reads it): :mod:`infra.provider.resource`, light to import, as the program
registers it first.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, TypeVar, cast

import pulumi

from infra import sdk_outputs
from infra.provider.kinds import KINDS, LEGACY_TYPE
from infra.provider.resource import SentryStacks
from infra.sentry.shape import SentryModel, props_of, secret_outputs

T = TypeVar("T")


def ref(value: pulumi.Output[T]) -> T:
    """A value another resource gives, where a typed input wants the value: the model keeps the ``Output`` (it is
    deferred, :mod:`infra.sentry.shape`) and the props carry it to the engine, which resolves it."""
    return cast(T, value)


def legacy_alias(kind: str, resource_name: str, parent: pulumi.Resource | None) -> str | pulumi.Output[str]:
    """The URN the dynamic providers of earlier releases gave this resource: same name, same parent, their type.

    The same alias as ``pulumi.Alias(type_=...)``, made with one ``apply`` of the parent's URN instead of the SDK's
    (the SDK expands an ``Alias`` object into about a dozen chained Outputs per resource, each an asyncio task the
    program keeps until it ends; docs/benchmarks.md)."""
    legacy = LEGACY_TYPE.format(name=kind)
    if parent is None:  # the stack's own children: no parent type in the URN
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{legacy}::{resource_name}"
    return parent.urn.apply(lambda urn: f"{urn[: urn.rfind('::')]}${legacy}::{resource_name}")


class SentryResource(pulumi.CustomResource):
    """A resource of the ``sentrystacks`` provider plugin (the type named like the class), declared with its typed
    inputs."""

    #: the outputs a program reads: the ``pulumi.Output`` attributes a subclass declares. Only these become the
    #: resource's output properties, and only these become ``Output`` attributes: the SDK would make an ``Output``
    #: (an asyncio task) of every prop, inputs included, for values nobody reads (infra/sdk_outputs.py).
    read_outputs: ClassVar[tuple[str, ...]] = ()
    #: the SDK makes ``Output`` attributes of these only, not of every input too (infra/sdk_outputs.py)
    declared_outputs_only: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.read_outputs = tuple(inspect.get_annotations(cls))

    def __init__(self, resource_name: str, inputs: SentryModel, opts: pulumi.ResourceOptions | None = None) -> None:
        kind = KINDS[type(self).__name__]
        if not isinstance(inputs, kind.inputs):
            raise TypeError(f"{kind.name} takes {kind.inputs.__name__}, not {type(inputs).__name__}")
        sdk_outputs.declared_only()
        props: dict[str, Any] = dict.fromkeys(self.read_outputs)
        props.update(props_of(inputs))
        parent = opts.parent if opts is not None else None
        own = pulumi.ResourceOptions(aliases=[legacy_alias(kind.name, resource_name, parent)],
                                     additional_secret_outputs=secret_outputs(kind.state))
        super().__init__(kind.token, resource_name, props, pulumi.ResourceOptions.merge(opts, own))


class Project(SentryResource):
    """A Sentry project: ``ProjectInputs``."""

    slug: pulumi.Output[str]
    projectId: pulumi.Output[str]
    adopted: pulumi.Output[bool]
    privacyKept: pulumi.Output[dict[str, Any] | None]
    privacyUsers: pulumi.Output[list[str] | None]


class ClientKey(SentryResource):
    """A client key (DSN) of a project: ``ClientKeyInputs``; the DSNs and the key's secret are secret outputs."""

    dsn: pulumi.Output[str]
    keyId: pulumi.Output[str]
    public: pulumi.Output[str]
    isActive: pulumi.Output[bool]


class InboundFilter(SentryResource):
    """One of a project's inbound filters: ``InboundFilterInputs``."""


class Alert(SentryResource):
    """An alert (a workflow): ``AlertInputs``."""

    workflowId: pulumi.Output[str]


class MetricMonitor(SentryResource):
    """A metric monitor (a detector): ``MetricMonitorInputs``; alerts watch it through its ``detectorId``."""

    detectorId: pulumi.Output[str]


class CronMonitor(SentryResource):
    """A cron monitor: ``CronMonitorInputs``; ``detectorId`` is "" where the server keeps no detector for it."""

    slug: pulumi.Output[str]
    detectorId: pulumi.Output[str]


class Release(SentryResource):
    """A release: ``ReleaseInputs``."""

    version: pulumi.Output[str]


class DeployStart(SentryResource):
    """When a rollout began: ``DeployStartInputs`` (no Sentry call)."""

    dateStarted: pulumi.Output[str]


class Deploy(SentryResource):
    """A deploy record: ``DeployInputs``."""

    deployId: pulumi.Output[str]


class SourceMaps(SentryResource):
    """A build's source maps for a release: ``SourceMapsInputs`` (uploaded once with sentry-cli)."""

    bundleId: pulumi.Output[str]
    files: pulumi.Output[int]


class IssueAlert(SentryResource):
    """A legacy issue alert rule: ``IssueAlertInputs``."""


class MetricAlert(SentryResource):
    """A legacy metric alert rule: ``MetricAlertInputs``."""


__all__ = [
    "Alert", "ClientKey", "CronMonitor", "Deploy", "DeployStart", "InboundFilter", "IssueAlert", "MetricAlert",
    "MetricMonitor", "Project", "Release", "SentryResource", "SentryStacks", "SourceMaps", "ref",
]
