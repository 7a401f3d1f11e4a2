"""What every Sentry dynamic provider shares: configure(), the lazily built client, input checking.

A provider instance carries no state when pickled (``__getstate__`` returns an empty dict), so the
``__provider`` blob in state is the same small by-reference pickle for every resource of a class, and
nothing read in ``configure()`` (the token above all) can ever reach the state file.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.dynamic import CheckFailure, ConfigureRequest, ResourceProvider

from infra import provider_errors
from infra.sentry import recovery
from infra.sentry.client import SentryClient, connection_from_config
from infra.sentry.errors import SentryConfigError, SentryError
from infra.unknown import is_unknown, split_unknown
from infra.vocabulary import SLUG_RE

PROVIDER_KEY = "__provider"


def declared(props: Mapping[str, Any]) -> dict[str, Any]:
    """`props` without ``__provider`` and without None values."""
    return {k: v for k, v in props.items() if k != PROVIDER_KEY and v is not None}


_WATCHING = threading.Event()


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _command_of(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="ascii", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def watch_cli(interval: float = 0.25) -> None:
    """End this provider process as soon as the `pulumi` CLI that started it is gone.

    A CLI killed with SIGKILL cannot stop its plugins: the provider would go on creating Sentry objects that no
    state will ever record (seen: up to 20 requests after the kill). Stopping within `interval` keeps what the
    engine journalled as pending close to what happened in Sentry, which the rerun's idempotent creates then
    pick up. Linux only (/proc); elsewhere, and when no `pulumi` ancestor is found (tests), it does nothing.
    """
    if _WATCHING.is_set():
        return
    _WATCHING.set()
    pid: int | None = os.getpid()
    cli = None
    for _ in range(4):  # python <- pulumi-resource-pulumi-python (sh) <- pulumi
        pid = _parent_of(pid) if pid else None
        if not pid or pid <= 1:
            break
        if _command_of(pid) == "pulumi":
            cli = pid
            break
    if cli is None:
        return
    recovery.enable()  # under the CLI: remember creates a killed run may leave unrecorded

    def watch() -> None:
        while True:
            time.sleep(interval)
            try:
                os.kill(cli, 0)
            except ProcessLookupError:
                recovery.cli_died()  # the next run looks these up before creating them again
                os._exit(70)  # the CLI died: stop before touching Sentry again
            except PermissionError:
                pass

    threading.Thread(target=watch, name="pulumi-cli-watch", daemon=True).start()


class SentryProvider(ResourceProvider):
    """Base of the Sentry providers: configure() and the client."""

    # The serialized provider (`__provider` in every resource's state) holds nothing but the class reference:
    # __getstate__ returns {}, the token reaches configure() from the stack config. So it need not be a
    # secret; Pulumi still makes it one if a secret Output was ever captured. As a secret, every resource's
    # `__provider` was encrypted twice (inputs, outputs) on each of the engine's per-step checkpoint saves:
    # about 2 CPU seconds of a 201-object `up` (docs/benchmarks.md).
    serialize_as_secret_always = False

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def configure(self, req: ConfigureRequest) -> None:
        provider_errors.install((SentryError,))  # errors reach the CLI as their one-line message
        watch_cli()
        try:
            self._client: SentryClient | None = SentryClient(connection_from_config(req.config))
            self._config_error: SentryConfigError | None = None
        except SentryConfigError as exc:
            self._client, self._config_error = None, exc

    @property
    def client(self) -> SentryClient:
        client: SentryClient | None = getattr(self, "_client", None)
        if client is None:
            error = getattr(self, "_config_error", None)
            raise error or SentryConfigError("the Sentry provider was used before configure()")
        return client

    @property
    def configured_for_sentry_io(self) -> bool | None:
        """True/False when the connection is known, None when it is not configured."""
        client: SentryClient | None = getattr(self, "_client", None)
        return None if client is None else client.connection.is_sentry_io


class Checker:
    """Collects CheckFailures; every accessor skips values unknown during preview.

    A provider's check() guards what a Pulumi program passes to the resource: types, required inputs, values the
    program computes (slugs with a stack suffix, names, legacy conversions) and programs that build the specs
    without the settings (tests/support/sentry_program.py). Stack config is validated once, by the settings
    model (infra/settings/), with the config key in the message; the value sets both use come from
    infra/vocabulary.py, so the two can no longer drift apart.
    """

    def __init__(self, props: Mapping[str, Any]) -> None:
        self.props = props
        self.failures: list[CheckFailure] = []

    def fail(self, key: str, reason: str) -> None:
        self.failures.append(CheckFailure(key, reason))

    def present(self, key: str, required: bool) -> bool:
        value = self.props.get(key)
        if value is None:
            if required:
                self.fail(key, f"{key} is required")
            return False
        return not is_unknown(value)

    def str_(
        self,
        key: str,
        *,
        required: bool = False,
        max_len: int | None = None,
        pattern: re.Pattern[str] | None = None,
        pattern_text: str = "",
        allowed: Iterable[str] | None = None,
        allow_empty: bool = False,
    ) -> None:
        if not self.present(key, required):
            return
        value = self.props[key]
        if not isinstance(value, str):
            self.fail(key, f"{key} must be a string, got {type(value).__name__}")
            return
        if not value and not allow_empty:
            self.fail(key, f"{key} must not be empty")
            return
        if max_len is not None and len(value) > max_len:
            self.fail(key, f"{key} {value!r} is longer than {max_len} characters")
        if pattern is not None and value and not pattern.match(value):
            self.fail(key, f"{key} {value!r} is invalid: {pattern_text or 'must match ' + pattern.pattern}")
        if allowed is not None:
            choices = list(allowed)
            if value not in choices:
                self.fail(key, f"{key} {value!r} is not allowed; allowed values: {', '.join(choices)}")

    def int_(
        self,
        key: str,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
        allowed: Iterable[int] | None = None,
    ) -> None:
        if not self.present(key, required):
            return
        value = self.props[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            self.fail(key, f"{key} must be an integer, got {value!r}")
            return
        number = int(value)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            self.fail(key, f"{key} {number} is out of range; allowed: {minimum}..{maximum}")
        if allowed is not None:
            choices = list(allowed)
            if number not in choices:
                self.fail(key, f"{key} {number} is not allowed; allowed values: {', '.join(map(str, choices))}")

    def number(self, key: str, *, required: bool = False) -> None:
        if not self.present(key, required):
            return
        value = self.props[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"{key} must be a number, got {value!r}")

    def bool_(self, key: str, *, required: bool = False) -> None:
        if self.present(key, required) and not isinstance(self.props[key], bool):
            self.fail(key, f"{key} must be true or false, got {self.props[key]!r}")

    def str_list(
        self,
        key: str,
        *,
        required: bool = False,
        allowed: Iterable[str] | None = None,
        non_empty: bool = False,
        pattern: re.Pattern[str] | None = None,
        pattern_text: str = "",
    ) -> None:
        if not self.present(key, required):
            return
        value = self.props[key]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            self.fail(key, f"{key} must be a list of strings, got {value!r}")
            return
        if non_empty and not value:
            self.fail(key, f"{key} must not be empty")
        choices = list(allowed) if allowed is not None else None
        for item in value:
            if is_unknown(item):
                continue
            if choices is not None and item not in choices:
                self.fail(key, f"{key} item {item!r} is not allowed; allowed values: {', '.join(choices)}")
            if pattern is not None and not pattern.match(item):
                self.fail(key, f"{key} item {item!r} is invalid: {pattern_text}")

    def slug(self, key: str, *, required: bool = True, max_len: int = 100) -> None:
        self.str_(
            key, required=required, max_len=max_len, pattern=SLUG_RE,
            pattern_text="lowercase letters, digits, '_' and '-' only, not all digits",
        )


__all__ = ["PROVIDER_KEY", "SLUG_RE", "Checker", "SentryProvider", "declared", "is_unknown", "split_unknown"]
