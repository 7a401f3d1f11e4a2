"""Shared helpers of the benchmarks (not a benchmark itself; run_all.py skips files starting with '_').

* :data:`PROGRAM`: the Sentry-only Pulumi program shared with the e2e tests (tests/support/sentry_program.py):
  per service a project, a client key, two inbound filters and a metric monitor, plus one alert, i.e.
  ``5 * services + 1`` Sentry objects. ``services: 0`` declares nothing (the empty program).
* :class:`Stack`: one Pulumi stack of that program on a throw-away file backend, driven through the real
  CLI (``tools/bin/pulumi``), timing every command.
* :func:`inventory`: what localsentry holds under a stack's names, compared with the stack's state:
  duplicates (two Sentry objects for one declared object) and orphans (Sentry objects under the stack's
  names that its state does not know), plus stray "Default" keys.

Everything talks to 127.0.0.1 only; the admin token is never printed.
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra.workspace import CLI_GC  # noqa: E402
from tests.support.localsentry import LocalSentry, unique  # noqa: E402
from tests.support.sentry_program import PROGRAM  # noqa: E402

TOOLS_BIN = ROOT / "tools" / "bin"
VENV = ROOT / "venv"
PULUMI = str(TOOLS_BIN / "pulumi")
OBJECTS_PER_SERVICE = 5  # project, key, 2 inbound filters, metric monitor


#: the Sentry objects' types: the plugin's, and the dynamic providers' of a baseline checkout
SENTRY_TYPES = ("sentrystacks:index:", "pulumi-python:dynamic/sentry:")


def objects_for(services: int) -> int:
    """Sentry objects the program declares for `services` services."""
    return OBJECTS_PER_SERVICE * services + 1 if services else 0


def emit(result: dict[str, Any]) -> None:
    """The final stdout line of every benchmark: one JSON object (run_all.py collects it)."""
    print(json.dumps(result, sort_keys=True), flush=True)


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


# --------------------------------------------------------------------------- the Pulumi CLI


@dataclass
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    cpu_seconds: float = 0.0  # user + system time of the CLI and every process it waited for

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, secret: str = "", lines: int = 25) -> str:
        text = "\n".join((self.stdout + "\n" + self.stderr).strip().splitlines()[-lines:])
        return text.replace(secret, "[secret]") if secret else text


@dataclass
class Stack:
    """One stack of :data:`PROGRAM` in its own project folder and file backend."""

    workdir: Path
    name: str
    ls: LocalSentry
    app: str = ""
    services: int = 0
    passphrase: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    pulumi_home: Path | None = None
    code: Path | None = None  # another checkout whose infra/ the program and the providers import (baseline)

    @classmethod
    def create(
        cls, base: Path, ls: LocalSentry, *, app: str, services: int, stack: str | None = None,
        project_mode: str = "shared", pulumi_home: Path | None = None, code: Path | None = None,
    ) -> Stack:  # fmt: skip
        name = stack or unique("b").replace("-", "")
        workdir = base / f"{app}-{name}"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "Pulumi.yaml").write_text(
            "name: bench-sentry\nruntime:\n  name: python\n  options:\n"
            f"    toolchain: pip\n    virtualenv: {VENV}\n"
            f"plugins:\n  providers:\n    - name: sentrystacks\n      path: {VENV / 'bin'}\n"
        )
        (workdir / "__main__.py").write_text(PROGRAM)
        st = cls(workdir, name, ls, app=app, pulumi_home=pulumi_home, code=code)
        (workdir / ".state").mkdir(exist_ok=True)
        st.run("stack", "init", name, "--secrets-provider", "passphrase", stack_flag=False, check=True)
        st.configure(services=services, project_mode=project_mode)
        return st

    def configure(self, *, services: int, project_mode: str = "shared") -> None:
        plain = {
            "sentry:baseUrl": self.ls.url, "sentry:organization": self.ls.org, "app": self.app,
            "services": str(services), "environment": "production", "team": self.ls.team,
            "projectMode": project_mode,
        }  # fmt: skip
        args = ["config", "set-all"]
        for key, value in plain.items():
            args += ["--plaintext", f"{key}={value}"]
        args += ["--secret", f"sentry:token={self.ls.token}"]
        self.run(*args, check=True)
        self.services = services

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
        # a user's Python caches compiled modules; without the cache every command compiles infra/ again (about 0.35 s
        # of CPU per command between the program and the plugin, which an empty program does not pay)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for name in ("SENTRY_BASE_URL", "SENTRY_AUTH_TOKEN", "SENTRY_ORG", "SENTRY_DSN"):
            env.pop(name, None)
        env.update(
            PATH=f"{TOOLS_BIN}:{VENV / 'bin'}:{env.get('PATH', '')}",
            PULUMI_BACKEND_URL=f"file://{self.workdir / '.state'}",
            PULUMI_CONFIG_PASSPHRASE=self.passphrase,
            PULUMI_HOME=str(self.pulumi_home or self.workdir / ".pulumi-home"),
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            # the CLI's garbage collector as scripts/env.sh and the toolkit's commands set it (infra/workspace.CLI_GC)
            **{k: os.environ.get(k, v) for k, v in CLI_GC.items()},
            PULUMI_ENABLE_LEGACY_DIFF="false",
            NO_COLOR="1",
        )
        if self.code is not None:  # ahead of the venv's editable install of this checkout
            env["PYTHONPATH"] = str(self.code)
            if not (self.code / "infra" / "provider" / "plugin.py").is_file():
                # a release before the provider plugin ran under Pulumi's own dynamic-provider host: four workers
                env.setdefault("SENTRY_STACKS_PROVIDER_WORKERS", "4")
        return env

    def command(self, *args: str, stack_flag: bool = True) -> list[str]:
        flags = ["--non-interactive"] + (["--stack", self.name] if stack_flag else [])
        if "--" in args:
            at = args.index("--")
            return [PULUMI, *args[:at], *flags, *args[at:]]
        return [PULUMI, *args, *flags]

    def run(self, *args: str, check: bool = False, stack_flag: bool = True, timeout: float = 1200) -> Run:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(
            self.command(*args, stack_flag=stack_flag), cwd=self.workdir, env=self.env(), capture_output=True,
            text=True, timeout=timeout,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        run = Run(args, proc.returncode, proc.stdout, proc.stderr, seconds, cpu)
        if check and not run.ok:
            raise RuntimeError(f"pulumi {' '.join(args[:2])} exited {run.returncode}:\n{run.tail(self.ls.token)}")
        return run

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """Start a command without waiting (its own session, so its plugins can be found and ended)."""
        return subprocess.Popen(
            self.command(*args), cwd=self.workdir, env=self.env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip

    def up(self, *extra: str, check: bool = False) -> Run:
        return self.run("up", "--yes", "--skip-preview", *extra, check=check)

    def preview(self, *extra: str, check: bool = False) -> Run:
        return self.run("preview", *extra, check=check)

    def destroy(self, *extra: str, check: bool = False) -> Run:
        return self.run("destroy", "--yes", "--skip-preview", *extra, check=check)

    def refresh(self, *extra: str, check: bool = False) -> Run:
        return self.run("refresh", "--yes", "--skip-preview", *extra, check=check)

    def remove(self) -> None:
        """Remove the (empty) stack from its backend."""
        self.run("stack", "rm", "--yes", "--force", self.name, stack_flag=False)

    def export(self) -> dict[str, Any]:
        run = self.run("stack", "export", check=True)
        return dict(json.loads(run.stdout))

    def sentry_resources(self) -> list[dict[str, Any]]:
        deployment = self.export().get("deployment") or {}
        return [r for r in deployment.get("resources") or [] if str(r.get("type", "")).startswith(SENTRY_TYPES)]

    def pending_operations(self) -> list[dict[str, Any]]:
        deployment = self.export().get("deployment") or {}
        return list(deployment.get("pending_operations") or [])


# --------------------------------------------------------------------------- the baseline checkout


BASELINE_DEFAULT = "fork-point"  # where this branch left main: the code before the branch's changes


def resolve_ref(ref: str) -> str:
    """The commit of `ref`; ``fork-point`` is ``git merge-base HEAD main``."""
    args = ["merge-base", "HEAD", "main"] if ref == BASELINE_DEFAULT else ["rev-parse", "--verify", f"{ref}^{{commit}}"]
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout.strip()


def baseline_checkout(ref: str) -> Path:
    """A detached `git worktree` of `ref` (e.g. ``main``) under build/, whose infra/ a Stack can run (`code=`) to
    measure the code before a change in the same run as after it. Reused while it is at the same commit."""
    commit = resolve_ref(ref)
    path = ROOT / "build" / f"baseline-{commit[:12]}"
    if not (path / "infra").is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(path), commit],
                       check=True, capture_output=True, text=True)  # fmt: skip
    return path


def describe_ref(ref: str) -> str:
    """`ref` as "<ref> (<short commit>)"."""
    try:
        commit = resolve_ref(ref)[:7] if ref != "HEAD" else subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except subprocess.CalledProcessError:
        commit = ""
    label = "main before this branch" if ref == BASELINE_DEFAULT else ref
    return f"{label} ({commit})" if commit else label


def head_ref() -> str:
    branch = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--abbrev-ref", "HEAD"], capture_output=True,
                            text=True).stdout.strip()  # fmt: skip
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return describe_ref("HEAD").replace("HEAD", branch or "HEAD") + (" + uncommitted changes" if dirty else "")


# --------------------------------------------------------------------------- localsentry inventory


def _all(ls: LocalSentry, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"per_page": 100, **params}
    while True:
        response = ls.api("GET", path, params=query)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}")
        items += response.json()
        nxt = response.links.get("next")
        if not nxt or nxt.get("results") != "true":
            return items
        query = {**query, "cursor": nxt["cursor"]}


def sentry_objects(ls: LocalSentry, app: str, stack: str) -> dict[str, list[dict[str, Any]]]:
    """Objects localsentry holds under a stack's names (projects by the app's slug prefix)."""
    marker = f"[{app}/{stack}] "
    projects = [p for p in _all(ls, f"/api/0/organizations/{ls.org}/projects/") if p["slug"].startswith(f"{app}-")]
    keys: list[dict[str, Any]] = []
    for project in projects:
        for key in _all(ls, f"/api/0/projects/{ls.org}/{project['slug']}/keys/"):
            keys.append({**key, "projectSlug": project["slug"]})
    detectors = [d for d in _all(ls, f"/api/0/organizations/{ls.org}/detectors/", query="type:metric_issue")
                 if str(d.get("name", "")).startswith(marker)]  # fmt: skip
    workflows = [w for w in _all(ls, f"/api/0/organizations/{ls.org}/workflows/")
                 if str(w.get("name", "")).startswith(marker)]  # fmt: skip
    return {"projects": projects, "keys": keys, "detectors": detectors, "workflows": workflows}


@dataclass
class Inventory:
    """Sentry versus state, for one stack."""

    declared: int  # Sentry objects the program declares (filters included)
    in_state: int  # Sentry resources in the stack's state
    found: dict[str, int]  # objects found in localsentry, by kind
    duplicates: list[str]  # "<kind> <name> x<count>"
    orphans: list[str]  # objects under the stack's names that the state does not know
    stray_default_keys: list[str]  # "Default" keys the stack should have deleted
    missing: list[str]  # declared objects absent from Sentry

    def summary(self) -> dict[str, Any]:
        return {
            "declared": self.declared, "in_state": self.in_state, "found": self.found,
            "duplicates": len(self.duplicates), "orphans": len(self.orphans),
            "stray_default_keys": len(self.stray_default_keys), "missing": len(self.missing),
            "details": (self.duplicates + self.orphans + self.stray_default_keys + self.missing)[:12],
        }  # fmt: skip


def inventory(st: Stack, state: list[dict[str, Any]] | None = None) -> Inventory:
    """Compare localsentry with `st`'s state (all objects under the stack's names, shared mode slugs)."""
    ls, app, stack = st.ls, st.app, st.name
    state = st.sentry_resources() if state is None else state
    ids = {str(r.get("id", "")) for r in state}
    objs = sentry_objects(ls, app, stack)
    project_ids = {str(p["id"]) for p in objs["projects"]}
    want_projects = {f"{app}-svc{i}" for i in range(st.services)}
    dups: list[str] = []
    orphans: list[str] = []
    missing: list[str] = []
    stray: list[str] = []
    slugs = Counter(p["slug"] for p in objs["projects"])
    for project in objs["projects"]:
        if f"{ls.org}/{project['id']}" not in ids:
            orphans.append(f"project {project['slug']}")
    missing += [f"project {s}" for s in sorted(want_projects - set(slugs))]
    key_names = Counter((k["projectSlug"], k["name"]) for k in objs["keys"] if k["name"] == f"{stack}-g1")
    dups += [f"key {p}/{n} x{c}" for (p, n), c in key_names.items() if c > 1]
    for key in objs["keys"]:
        if key["name"] in ("Default", "") or key.get("label") == "Default":
            stray.append(f"default key of {key['projectSlug']}")
        elif key["name"].startswith(f"{stack}-") and f"{ls.org}/{key['projectSlug']}/{key['id']}" not in ids:
            orphans.append(f"key {key['projectSlug']}/{key['name']} id {key['id']}")
    missing += [f"key {s}/{stack}-g1" for s in sorted(want_projects) if (s, f"{stack}-g1") not in key_names]
    for kind in ("detectors", "workflows"):
        names = Counter(str(o["name"]) for o in objs[kind])
        dups += [f"{kind[:-1]} {n} x{c}" for n, c in names.items() if c > 1]
        for obj in objs[kind]:
            if f"{ls.org}/{obj['id']}" not in ids:
                orphans.append(f"{kind[:-1]} {obj['name']} id {obj['id']}")
    want_detectors = {f"[{app}/{stack}] errors-svc{i}" for i in range(st.services)}
    have_detectors = {str(d["name"]) for d in objs["detectors"] if str(d.get("projectId")) in project_ids}
    missing += [f"detector {n}" for n in sorted(want_detectors - have_detectors)]
    if st.services and not objs["workflows"]:
        missing.append(f"workflow [{app}/{stack}] new-issues")
    found = {k: len(v) for k, v in objs.items()}
    return Inventory(objects_for(st.services), len(state), found, dups, orphans, stray, missing)


def leftovers(st: Stack) -> list[str]:
    """After destroy: keys, monitors and alerts of the stack still in Sentry (shared projects stay)."""
    objs = sentry_objects(st.ls, st.app, st.name)
    left = [f"key {k['projectSlug']}/{k['name']}" for k in objs["keys"] if k["name"].startswith(f"{st.name}-")]
    left += [f"detector {d['name']}" for d in objs["detectors"]] + [f"workflow {w['name']}" for w in objs["workflows"]]
    return left


def purge(st: Stack) -> int:
    """Delete everything under a stack's names from localsentry (after a run that left orphans)."""
    ls, count = st.ls, 0
    objs = sentry_objects(ls, st.app, st.name)
    for key in objs["keys"]:
        if key["name"].startswith(f"{st.name}-"):
            ls.api("DELETE", f"/api/0/projects/{ls.org}/{key['projectSlug']}/keys/{key['id']}/")
            count += 1
    for kind in ("detectors", "workflows"):
        for obj in objs[kind]:
            ls.api("DELETE", f"/api/0/organizations/{ls.org}/{kind}/{obj['id']}/")
            count += 1
    return count + delete_projects(ls, st.app)


def session_pids(sid: int) -> list[int]:
    """Live processes of session `sid` (a command started with start_new_session=True and its plugins)."""
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def _label(cmdline: str, comm: str) -> str:
    if "pulumi-language-python-exec" in cmdline:
        return "program (language host's exec of __main__.py)"
    if "pulumi.dynamic" in cmdline or "pulumi-resource-pulumi-python" in cmdline:
        return "dynamic provider (pulumi.dynamic)"
    if "pulumi-resource-sentrystacks" in cmdline:
        return "provider plugin (sentrystacks)"
    if "pulumi-language-python" in cmdline:
        return "language host (scripts/langhost)"
    if comm == "pulumi":
        return "pulumi CLI + engine (Go)"
    return f"other ({comm})"


@dataclass
class ProcessProfile:
    """CPU seconds, wall span and peak RSS per process kind of one CLI command (sampled from /proc every
    `interval`)."""

    wall: float
    kinds: dict[str, dict[str, float]]  # kind -> {"cpu", "start", "end", "processes", "rss_mb"} (start/end from CLI
    # start; rss_mb: the largest peak resident set (VmHWM) of one process of that kind)
    returncode: int = 0
    output: str = ""  # the command's stdout + stderr


def profile_command(st: Stack, *args: str, interval: float = 0.01) -> ProcessProfile:
    """Run a CLI command in its own session and sample its processes: what each kind cost in CPU and when it
    ran (seconds after the CLI started). CPU of a process is its last sample (a process that lives for less
    than `interval` may be missed)."""
    ticks = os.sysconf("SC_CLK_TCK")
    start = time.perf_counter()
    proc = st.popen(*args)
    outputs: list[str] = []  # read while sampling: a long output must not fill the pipe and stall the CLI
    reader = threading.Thread(target=lambda: outputs.extend(proc.communicate()), daemon=True)
    reader.start()
    seen: dict[int, tuple[str, float, float, float, float]] = {}  # pid -> (kind, first, last, cpu, peak RSS MB)
    while True:
        now = time.perf_counter() - start
        for pid in session_pids(proc.pid):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                hwm = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
            except OSError:
                continue
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            cpu = (int(fields[11]) + int(fields[12])) / ticks
            kind = seen[pid][0] if pid in seen else _label(cmdline, comm)
            first = seen[pid][1] if pid in seen else now
            rss = max(int(hwm.group(1)) / 1024 if hwm else 0.0, seen[pid][4] if pid in seen else 0.0)
            seen[pid] = (kind, first, now, cpu, rss)
        if proc.poll() is not None:
            break
        reader.join(interval)  # returns as soon as the command's output ends
    reader.join()
    wall = time.perf_counter() - start
    kinds: dict[str, dict[str, float]] = {}
    for kind, first, last, cpu, rss in seen.values():
        entry = kinds.setdefault(kind, {"cpu": 0.0, "start": first, "end": last, "processes": 0, "rss_mb": 0.0})
        entry["cpu"] += cpu
        entry["start"], entry["end"] = min(entry["start"], first), max(entry["end"], last)
        entry["processes"] += 1
        entry["rss_mb"] = max(entry["rss_mb"], rss)
    return ProcessProfile(wall, kinds, proc.returncode, "\n".join(outputs))


def delete_projects(ls: LocalSentry, app: str) -> int:
    """Remove the shared projects a benchmark app left (shared projects survive `pulumi destroy` by design)."""
    count = 0
    for project in _all(ls, f"/api/0/organizations/{ls.org}/projects/"):
        if project["slug"].startswith(f"{app}-"):
            ls.api("DELETE", f"/api/0/projects/{ls.org}/{project['slug']}/")
            count += 1
    return count


# --------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    """nproc, memory, CPU model, load, and the versions of pulumi, Python, the Pulumi SDK and sentry-sdk."""
    info: dict[str, Any] = {"nproc": os.cpu_count(), "python": platform.python_version(), "os": platform.platform()}
    try:
        meminfo = Path("/proc/meminfo").read_text()
        match = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
        info["memory_gib"] = round(int(match.group(1)) / 1024 / 1024, 1) if match else None
    except OSError:
        info["memory_gib"] = None
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo)
        info["cpu"] = match.group(1).strip() if match else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    try:
        info["pulumi"] = subprocess.run([PULUMI, "version"], capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        info["pulumi"] = None
    for package in ("pulumi", "sentry_sdk"):
        code = f"import importlib.metadata as m; print(m.version({package.replace('_', '-')!r}))"
        proc = subprocess.run([str(VENV / "bin" / "python"), "-c", code], capture_output=True, text=True)
        info[f"{package}_package"] = proc.stdout.strip() or None
    info["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    return info


__all__ = [
    "BASELINE_DEFAULT", "OBJECTS_PER_SERVICE", "PROGRAM", "ROOT", "Inventory", "LocalSentry", "ProcessProfile",
    "Run", "Stack", "baseline_checkout", "delete_projects", "describe_ref", "emit", "head_ref", "inventory",
    "leftovers", "machine", "median", "objects_for", "profile_command", "purge", "sentry_objects", "session_pids",
    "unique",
]  # fmt: skip
