"""DSN rotation against a real stack: config read/write, `pulumi up`, ingest round trip, key stats.

`infra/rotate_dsn.py` (installed: `sentry-stacks-rotate-dsn`; here: `scripts/rotate-dsn`) is the thin command line
over this module; the decisions are in `infra/rotation.py`. Every step writes the stack config in one write (keys
and the rotation record together) and then applies it with `pulumi up` through the Automation API, so the stack stays
the source of truth and an interrupted rotation can be resumed from any machine with access to it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from infra.commands import ROTATE_DSN
from infra.rotation import Rotation, RotationRefused, ServiceKeys
from infra.sentry.client import SentryClient
from infra.workspace import PROJECT, ROOT, project_name, pulumi_binary, pulumi_env, write_config_values

#: the keys and rotation records of this repository's project; a project of yours has them under its own name
KEYS = f"{PROJECT}:keys"
ROTATION = f"{PROJECT}:rotation"
OUTPUT_KEYS = "sentryKeys"  # {service: {generation: {id, project, dsn (secret), active}}}
Log = Callable[[str], None]


def keys_from_config(raw: Any, services: Iterable[str]) -> dict[str, ServiceKeys]:
    """`sentry-stacks:keys` as ServiceKeys per service (default: one active generation g1)."""
    out: dict[str, ServiceKeys] = {}
    raw = raw if isinstance(raw, dict) else {}
    for service in services:
        body = raw.get(service)
        if not isinstance(body, dict):
            out[service] = ServiceKeys(current="g1", generations=(("g1", True),))
            continue
        gens = []
        for gen, value in sorted((body.get("generations") or {}).items()):
            active = value if isinstance(value, bool) else bool((value or {}).get("active", True))
            gens.append((gen, active))
        out[service] = ServiceKeys(current=str(body.get("current", "g1")), generations=tuple(gens))
    return out


def keys_to_config(raw: Any, keys: dict[str, ServiceKeys]) -> dict[str, Any]:
    """Write ServiceKeys back, keeping each generation's other settings (rateLimit, loader, ...)."""
    out: dict[str, Any] = json.loads(json.dumps(raw)) if isinstance(raw, dict) else {}
    for service, sk in keys.items():
        body = out.setdefault(service, {})
        old_gens = body.get("generations") or {}
        gens: dict[str, Any] = {}
        for gen, active in sk.generations:
            old = old_gens.get(gen)
            entry = dict(old) if isinstance(old, dict) else {}
            entry["active"] = active
            gens[gen] = entry
        body["current"] = sk.current
        body["generations"] = gens
    return out


@dataclass
class StackHandle:
    """The stack being rotated, with its config and last outputs."""

    name: str
    stack: Any
    log: Log
    root: Path = ROOT
    config: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    project: str = PROJECT
    #: the command as the user ran it (infra/commands.py), named in what to run next
    prog: str = ROTATE_DSN

    @staticmethod
    def open(name: str, log: Log, root: Path = ROOT, prog: str = ROTATE_DSN) -> StackHandle:
        from infra.workspace import select_stack

        handle = StackHandle(name=name, stack=select_stack(name, root), log=log, root=root,
                             project=project_name(root), prog=prog)  # fmt: skip
        handle.reload()
        return handle

    @property
    def command(self) -> str:
        """The command line of this stack's rotation up to ``--stack``: what a message tells the user to run."""
        return f"{self.prog} --stack {self.name}"

    @property
    def keys_key(self) -> str:
        """``<project>:keys``: the key generations per service."""
        return f"{self.project}:keys"

    @property
    def rotation_key(self) -> str:
        """``<project>:rotation``: the rotations under way."""
        return f"{self.project}:rotation"

    def reload(self) -> None:
        self.config = {k: _config_value(v) for k, v in self.stack.get_all_config().items()}
        self.outputs = {k: v.value for k, v in self.stack.outputs().items()}

    def services(self) -> list[str]:
        keys = self.outputs.get(OUTPUT_KEYS)
        if isinstance(keys, dict) and keys:
            return sorted(keys)
        raw = self.config.get(self.keys_key)
        return sorted(raw) if isinstance(raw, dict) else []

    def rotations(self) -> dict[str, Rotation]:
        raw = self.config.get(self.rotation_key) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{self.rotation_key} must be an object of service -> rotation record")
        return {service: Rotation.from_config(service, body) for service, body in raw.items()}

    def write(self, keys: dict[str, ServiceKeys], rotations: dict[str, Rotation | None]) -> None:
        """One config write holding both the key generations and the rotation records."""
        new_keys = keys_to_config(self.config.get(self.keys_key), keys)
        current = {k: v for k, v in (self.config.get(self.rotation_key) or {}).items()}
        for service, rotation in rotations.items():
            if rotation is None:
                current.pop(service, None)
            else:
                current[service] = rotation.to_config()
        # as text, in one atomic write: `pulumi config set-all` would re-serialise the user's whole stack file
        write_config_values(self.root / f"Pulumi.{self.name}.yaml",
                            {self.keys_key: new_keys, self.rotation_key: current})
        self.reload()

    def up(self) -> None:
        self.clear_stale_lock()
        self.log(f"pulumi up -s {self.name}")
        self.stack.up(on_output=lambda line: self.log("  " + line.rstrip()))
        self.reload()

    def clear_stale_lock(self) -> None:
        """A local-backend lock left by a killed `pulumi` on this host is removed (`pulumi cancel`)."""
        backend = pulumi_env(self.root).get("PULUMI_BACKEND_URL", "")
        if not backend.startswith("file://"):
            return
        locks = Path(backend[len("file://"):].split("?")[0]) / ".pulumi" / "locks"
        for lock in locks.rglob(f"{self.name}/*.json") if locks.exists() else []:
            try:
                info = json.loads(lock.read_text())
                pid = int(info.get("pid", 0))
                host_ok = info.get("hostname") in (os.uname().nodename, None)
            except (OSError, ValueError):
                continue
            if host_ok and pid and not _alive(pid):
                self.log(f"removing the stale lock of a killed pulumi process (pid {pid})")
                self._pulumi("cancel", "--yes")
                return

    def _pulumi(self, *args: str) -> str:
        proc = subprocess.run(
            [pulumi_binary(), *args, "--stack", self.name, "--non-interactive"],
            cwd=self.root, env={**os.environ, **pulumi_env(self.root)}, capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"pulumi {args[0]} {args[1] if len(args) > 1 else ''} failed: {proc.stderr.strip()}")
        return proc.stdout

    def sentry(self) -> SentryClient:
        from infra.sentry.client import connection_from_config

        return SentryClient(connection_from_config(self.config, root=self.root))

    def key_output(self, service: str, generation: str) -> dict[str, Any] | None:
        keys = self.outputs.get(OUTPUT_KEYS) or {}
        entry = (keys.get(service) or {}).get(generation)
        return entry if isinstance(entry, dict) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _config_value(value: Any) -> Any:
    text = value.value
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return text
    return parsed if isinstance(parsed, dict | list) else text


# --------------------------------------------------------------------------- verification


def send_probe(dsn: str, environment: str | None, release: str | None, marker: str) -> str:
    """Send one event with the real SDK to `dsn`; returns its event id (the SDK does not tell if it landed)."""
    import sentry_sdk

    client = sentry_sdk.Client(
        dsn=dsn, environment=environment, release=release, default_integrations=False,
        auto_enabling_integrations=False, traces_sample_rate=0.0,
    )
    event = {"message": f"sentry-stacks DSN check {marker}", "level": "info", "tags": {"sentry-stacks.probe": marker}}
    event_id = client.capture_event(event, scope=sentry_sdk.Scope())  # type: ignore[arg-type]
    client.flush(timeout=10)
    client.close(timeout=2)
    if not event_id:
        raise RuntimeError("the Sentry SDK dropped the probe event before sending it")
    return str(event_id)


def read_back(client: SentryClient, org: str, project: str, event_id: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        found = client.get_or_none(f"projects/{org}/{project}/events/{event_id}/", what=f"event {event_id}")
        if found:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(1.0)


def verify_key(handle: StackHandle, service: str, generation: str, timeout: float) -> str:
    """A real ingest round trip with the key's DSN: an event sent and read back from Sentry's events API."""
    entry = handle.key_output(service, generation)
    if not entry or not entry.get("dsn"):
        raise RotationRefused(
            f"{service}: the stack has no DSN for key {generation} yet; run `{handle.command} --service {service} "
            "start` (it runs pulumi up)"
        )
    client = handle.sentry()
    marker = f"{handle.name}/{service}/{generation}/{uuid.uuid4().hex[:8]}"
    event_id = send_probe(entry["dsn"], handle.outputs.get("environment"), handle.outputs.get("release"), marker)
    if not read_back(client, client.connection.organization, entry["project"], event_id, timeout):
        raise RotationRefused(
            f"{service}: the probe event {event_id} sent with the new key {generation} was not found in Sentry "
            f"within {int(timeout)}s: the key is not accepting events (disabled, wrong project, or ingest down)"
        )
    return event_id


# --------------------------------------------------------------------------- key stats and status


def last_event(client: SentryClient, project: str, key_id: str, window: timedelta) -> datetime | None:
    """When the key last received an event within `window` (key stats), else None.

    Filtered and rate-limited events count too: they show that a client still sends with this key.
    """
    now = datetime.now(UTC)
    org = client.connection.organization
    resolution, step = ("10s", 10) if window <= timedelta(hours=3) else ("1m", 60) if window <= timedelta(days=1) \
        else ("1h", 3600)
    stats = client.get(
        f"projects/{org}/{project}/keys/{key_id}/stats/",
        what=f"stats of key {key_id[:8]}…",
        params={"since": int((now - window).timestamp()), "until": int(now.timestamp()) + 1, "resolution": resolution},
    )
    seen = [int(p["ts"]) for p in stats or [] if int(p.get("total") or p.get("accepted") or 0) > 0]
    if not seen:
        return None
    return datetime.fromtimestamp(max(seen) + step, UTC)  # end of the newest bucket with events


def files_carrying(handle: StackHandle, key_id: str) -> list[str]:
    files = handle.outputs.get("files") or {}
    paths = list(files.values()) if isinstance(files, dict) else list(files)
    out = []
    for path in paths:
        try:
            if key_id in Path(str(path)).read_text():
                out.append(str(path))
        except OSError:
            continue
    return sorted(out)


def pipeline_notice(handle: StackHandle, action: str, keys: dict[str, str]) -> list[str]:
    """What the pipeline must do after a rotation step of a stack whose services this toolkit does not deploy
    (``driver: none``): `keys` maps each rotated service to the key generation its services must now run with.
    Empty for the other drivers (the step has already switched the containers)."""
    if handle.outputs.get("driver") != "none":
        return []
    lines = [f"driver none: this stack deploys no container, so the {action} stops after the files."]
    for service, generation in sorted(keys.items()):
        entry = handle.key_output(service, generation) or {}
        carrying = files_carrying(handle, str(entry.get("id") or "-")) if entry else []
        names = [Path(f).name.removesuffix(".env") for f in carrying if f.endswith(".env")]
        lines.append(f"  {service}: key {generation} is in {', '.join(carrying) or 'the files'}; redeploy "
                     f"{', '.join(names) or service} with your pipeline from those files or the output serviceEnvs "
                     f"(`pulumi stack output serviceEnvs --show-secrets --json -s {handle.name}`).")  # fmt: skip
    if action == "start":
        which = " ".join(f"--service {service}" for service in sorted(keys))
        lines.append("  The old key stays active meanwhile; once every instance runs the new environment, run "
                     f"`{handle.command} {which} finish`: it refuses while the old key still receives events.")
    return lines


def _live_file_carries(container: dict[str, Any], key_id: str) -> bool:
    """``dsnReload: file``: does the env file the container reads (SENTRY_STACKS_ENV_FILE, a bind mount) hold it?"""
    env = dict(item.partition("=")[::2] for item in container.get("Config", {}).get("Env") or [])
    inside = env.get("SENTRY_STACKS_ENV_FILE", "")
    for mount in container.get("Mounts") or []:
        target = str(mount.get("Destination") or "")
        if mount.get("Type") == "bind" and inside.startswith(target.rstrip("/") + "/"):
            try:
                return key_id in (Path(str(mount.get("Source"))) / inside[len(target):].lstrip("/")).read_text()
            except OSError:
                return False
    return False


def containers_carrying(key_id: str) -> list[str]:
    """Names of running containers whose environment, or whose live env file (``dsnReload: file``), holds the key."""
    try:
        ids = subprocess.run(["docker", "ps", "-q"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return []
    if not ids.stdout.split():
        return []
    inspect = subprocess.run(["docker", "inspect", *ids.stdout.split()], capture_output=True, text=True,
                             timeout=60, check=False)
    out = []
    for container in json.loads(inspect.stdout or "[]"):
        env = container.get("Config", {}).get("Env") or []
        if any(key_id in item for item in env) or _live_file_carries(container, key_id):
            out.append(container.get("Name", "").lstrip("/"))
    return sorted(out)


__all__ = [
    "KEYS",
    "OUTPUT_KEYS",
    "ROTATION",
    "StackHandle",
    "containers_carrying",
    "files_carrying",
    "keys_from_config",
    "keys_to_config",
    "last_event",
    "pipeline_notice",
    "read_back",
    "send_probe",
    "verify_key",
]
