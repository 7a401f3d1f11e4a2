"""Run every benchmark and write docs/benchmarks.md (this is `make bench`).

    venv/bin/python bench/run_all.py [--quick] [--only api_requests,faults] [--out docs/benchmarks.md]

Runs, one after the other (they share this machine's two cores with nothing else of ours):
api_requests.py, throughput.py, scale.py, faults.py, then ingest.py, rotation.py and sourcemaps.py when they exist. Each
prints its figures and, as its last stdout line, one JSON object; this runner streams their output, collects
those lines and writes the figures, the machine (nproc, memory, CPU model, load, versions of pulumi, Python,
the Pulumi SDK and sentry-sdk) and the exact commands to docs/benchmarks.md. `--quick` runs smaller versions
(passed on to every script that accepts it) for a run of a few minutes.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import ROOT, machine

BENCH = ROOT / "bench"
PY = "venv/bin/python"
ORDER = ("api_requests", "throughput", "scale", "sdk_floor", "pulumi_floor", "growth_sentry", "growth", "faults",
         "ingest", "rotation", "sourcemaps")
# runs of one script with its own arguments (name -> script, arguments; --quick replaces the arguments)
VARIANTS = {
    "growth_sentry": ("growth", ["--services", "20,40", "--sentry-limits", "--checkpoints-only"]),
    "growth": ("growth", ["--services", "100,200"]),
}
# runs too large for a baseline with the dynamic resources (they fail at about 962 objects)
NO_BASELINE = {"growth"}
# for scripts without --quick: smaller-run flags, passed only when the script's --help lists them
QUICK_ARGS = {"ingest": [("--envelopes", "1000")],
              "pulumi_floor": [("--repeat", "1"), ("--growth", "20,40")], "rotation": [("--baseline-seconds", "8")],
              "sourcemaps": [("--events", "100")]}
TIMEOUT = 30 * 60


def quick_args(name: str, script: Path) -> list[str]:
    proc = subprocess.run([str(ROOT / PY), str(script), "--help"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)  # fmt: skip
    if re.search(r"--quick\b", proc.stdout):
        return ["--quick"]
    return [part for flag, value in QUICK_ARGS.get(name, []) if flag in proc.stdout for part in (flag, value)]


def takes_baseline(script: Path) -> bool:
    proc = subprocess.run([str(ROOT / PY), str(script), "--help"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)  # fmt: skip
    return bool(re.search(r"--baseline(?![\w-])", proc.stdout))


def script_of(name: str) -> Path:
    return BENCH / f"{VARIANTS.get(name, (name, []))[0]}.py"


def run_one(name: str, quick: bool, echo: bool = True, baseline: str = "") -> dict[str, Any]:
    script = script_of(name)
    args: list[str] = list(VARIANTS.get(name, (name, []))[1])
    if quick:
        args = quick_args(name, script) + [a for a in args if a in ("--sentry-limits", "--checkpoints-only")]
    if baseline and takes_baseline(script) and name not in NO_BASELINE:
        args += ["--baseline", baseline]
    command = [PY, f"bench/{script.name}", *args]
    if echo:
        print(f"\n=== {shlex.join(command)}", flush=True)
    start = time.perf_counter()
    lines: list[str] = []
    proc = subprocess.Popen([str(ROOT / PY), str(script), *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if echo:
                print(line, end="", flush=True)
        code = proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    seconds = time.perf_counter() - start
    data: dict[str, Any] | None = None
    text = lines
    if lines:
        try:
            parsed = json.loads(lines[-1])
            if isinstance(parsed, dict):
                data, text = parsed, lines[:-1]
        except ValueError:
            pass
    return {"name": name, "command": shlex.join(command), "exit_code": code, "seconds": round(seconds, 1),
            "data": data, "text": "\n".join(text).strip()}  # fmt: skip


# --------------------------------------------------------------------------- markdown


def table(headers: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def yes(value: Any) -> str:
    return "-" if value is None else ("yes" if value else "**no**")


LABEL = {"up": "up from empty", "noop-up": "no-op up", "preview": "preview", "refresh": "refresh",
         "change": "up changing N+1 objects", "destroy": "destroy"}  # fmt: skip


def _ratio(r: dict[str, Any] | None) -> str:
    if r is None:
        return "-"
    return f"{r['ratio']:.2f}" if r["ratio"] is not None else ("0 = minimum" if r["requests"] == 0 else "**miss**")


def md_api_requests(d: dict[str, Any]) -> str:
    results = [dict(r, variant=r.get("variant", "after")) for r in d["results"]]
    by_key = {(r["variant"], r["services"], r["op"]): r for r in results}
    rows = []
    for r in results:
        if r["variant"] != "after":
            continue
        b = by_key.get(("before", r["services"], r["op"]))
        rows.append([r["services"], r["objects"], LABEL.get(r["op"], r["op"]), r["minimum"],
                     b["requests"] if b else "-", _ratio(b), r["requests"], _ratio(r), r["writes"], r["reads"],
                     r["throttled_429"]])  # fmt: skip
    out = []
    if d.get("baseline"):
        out.append(f"Before: {d['baseline']}; after: {d.get('head', 'this checkout')}. Both ran in this one "
                   "benchmark process against the same localsentry (the baseline from a `git worktree`).\n")
    out.append(table(["N", "objects", "operation", "minimum", "before: requests", "before / minimum",
                      "after: requests", "after / minimum", "writes", "reads", "429s"], rows))  # fmt: skip
    causes: dict[tuple[str, str, str], dict[int, int]] = {}
    for r in results:
        if r["variant"] == "after":
            for c in r["causes"]:
                causes.setdefault((r["op"], c["request"], c["code"]), {})[r["services"]] = c["count"]
    if causes:
        sizes = d["sizes"]
        out.append("\nRequests above the minimum now, by the code path that sends them (count for N = "
                   + ", ".join(map(str, sizes)) + "):\n")  # fmt: skip
        rows = [[LABEL.get(op, op), f"`{req}`", code, " / ".join(str(per.get(n, 0)) for n in sizes)]
                for (op, req, code), per in causes.items()]  # fmt: skip
        out.append(table(["operation", "request", "code path", "count"], rows))
    unexplained = [r for r in results if r["unexplained"]]
    if unexplained:
        out.append("\nRequests the model does not explain (measured minus model): "
                   + "; ".join(f"{r['variant']} N={r['services']} {r['op']}: {r['unexplained']}" for r in unexplained))
    else:
        out.append("\nEvery measured request, before and after, is explained by the model of the code paths (no "
                   "retries, no 429s, nothing unaccounted for).")  # fmt: skip
    for u in d.get("upgrades") or []:
        verdict = "no changes" if u["preview_no_changes"] and u["up_no_changes"] else "**changes**"
        out.append(f"\nUpgrade, N={u['services']}: a stack created and changed by the baseline, then `preview` "
                   f"with the new code (no create, update, delete or replace of anything but the explicit provider the "
                   f"new code declares), `up`, and `preview --expect-no-changes`: {verdict}, {u['requests']} API "
                   f"requests.")
    return "\n".join(out)


def _throughput_rows(rows_in: list[dict[str, Any]]) -> list[list[Any]]:
    return [[r.get("variant", "after"), r["parallel"], r["op"], r["objects"], r["seconds"], r["busy_seconds"],
             r["requests"], r["requests_per_second"], f"{r['ratio_to_limit']:.2f}", r["throttled_429"],
             r["failed_operations"], r.get("left_in_sentry", "-") if r["op"] == "destroy" else "-"]
            for r in rows_in]  # fmt: skip


def md_throughput(d: dict[str, Any]) -> str:
    out = []
    if d.get("baseline"):
        out.append(f"Before: {d['baseline']}; after: {d.get('head', 'this checkout')} (same process, same "
                   "localsentry).\n")
    out.append(table(["code", "--parallel", "phase", "Sentry objects", "wall s", "busy s", "API requests",
                      "requests/s", f"/ {d['rate_limit']} req/s limit", "429s", "failed operations",
                      "left in Sentry"], _throughput_rows(d["results"])))  # fmt: skip
    windowed = d.get("window_results") or []
    if windowed:
        w = windowed[0]
        out.append(f"\n60-second window: localsentry allows {w['rate_limit']} requests per {w['window']} s and answers "
                   "429 with current Sentry's JSON object `{\"detail\": \"... Limit is N requests in 60 seconds\"}`"
                   ":\n")  # fmt: skip
        out.append(table(["code", "--parallel", "phase", "Sentry objects", "wall s", "busy s", "API requests",
                          "requests/s", f"/ {w['rate_limit']}/{w['window']} s", "429s", "failed operations",
                          "left in Sentry"], _throughput_rows(windowed)))  # fmt: skip
    return "\n".join(out)


def md_scale(d: dict[str, Any]) -> str:
    rows = [["empty program" if r["objects"] == 0 else
             f"{r['objects']}{' (before)' if r.get('code') == 'before' else ''}", r["median_seconds"],
             f"{r['ratio_to_empty']:.2f}", r["ms_per_object"] if r["ms_per_object"] is not None else "-",
             r.get("median_cpu_seconds", "-"), f"{r.get('cpu_ratio_to_empty', 0):.2f}", r["api_requests"],
             ", ".join(map(str, r["samples"]))] for r in d["results"]]  # fmt: skip
    note = (f"\n{d['repeat']} runs of each, round-robin, median. Load average {d['loadavg_before']} before and "
            f"{d['loadavg_after']} after (other work shares the machine; CPU time varies less than wall time).")
    return table(["Sentry objects", "median wall s", "/ empty", "ms per object", "CPU s", "CPU / empty",
                  "API requests", "samples (s)"], rows) + note + md_profile(d)  # fmt: skip


def md_faults(d: dict[str, Any]) -> str:
    rows = []
    for r in d["results"]:
        injected = sum((r.get("faults_up") or {}).values()) + sum((r.get("faults_destroy") or {}).values())
        if r["kind"] == "kill":
            first = "killed" if r.get("killed") else "finished first"
            what = str(r["mode"]).replace("-create", "")
            at = f"API request {r['kill_at_request']}" if r.get("kill_at_request") else f"{r['kill_after_seconds']} s"
            cell = (f"kill -9 at {at}" if r["mode"] == "random"
                    else f"kill -9 during a {what} create ({r['kill_after_seconds']} s)")  # fmt: skip
            if "landed" in r:
                cell += "" if r["landed"] else " (did not land where it claims)"
        else:
            first, cell = yes(r.get("first_up_ok")), r["cell"]
        rerun = yes(r.get("rerun_ok")) if r.get("reruns") else "not needed"
        rows.append([cell, "-" if r["kind"] == "kill" else injected, first, rerun, yes(r.get("converged")),
                     r.get("duplicates", "-"), r.get("orphans", "-"), r.get("stray_default_keys", "-"),
                     yes(r.get("destroy_ok")), r.get("left_after_destroy", "-")])  # fmt: skip
    out = [table(["cell", "faults injected", "first up ok", "single rerun ok", "converged", "duplicates", "orphans",
                  "stray Default keys", "destroy ok", "left after destroy"], rows)]  # fmt: skip
    notes = []
    for r in d["results"]:
        parts = []
        for key, text in (("first_error", "first up"), ("rerun_error", "rerun"), ("destroy_error", "destroy")):
            if r.get(key):
                parts.append(f"{text}: `{r[key]}`")
        if r["kind"] == "kill":
            parts.append(f"{r['requests_before_kill']} API requests before the kill (landed where it claims: "
                         f"{yes(r.get('landed'))}); {r['plugins_left_running']} "
                         f"plugin processes kept running after it and sent {r['requests_after_kill']} more "
                         f"requests; {r['pending_operations']} pending operations in the state; `pulumi cancel "
                         f"--yes`: {r['cancel']}")  # fmt: skip
            if r.get("state_after_kill"):
                parts.append(f"`pulumi stack export` right after the kill failed: `{r['state_after_kill']}`")
            if r.get("state_repair"):
                rep = r["state_repair"]
                parts.append(f"state repaired by removing the empty {', '.join(rep['removed_empty_files'])}; then "
                             f"`up` ok: {yes(rep['up_ok'])}" + (f" (`{rep['error']}`)" if rep.get("error") else ""))
            if r.get("preview_error"):
                parts.append(f"preview --expect-no-changes after the rerun: {r['preview_error']}")
            rec = r.get("recovery_with_adopt_existing")
            if rec:
                parts.append(f"recovery with `adoptExisting: true` for one `up` (then false again): converged "
                             f"{yes(rec['converged'])}, duplicates {rec['duplicates']}, orphans {rec['orphans']}, "
                             f"stray Default keys {rec['stray_default_keys']}, missing {rec['missing']}")  # fmt: skip
        details = (r.get("inventory") or {}).get("details") or []
        if details and (r.get("orphans") or r.get("duplicates")):
            parts.append("found: " + "; ".join(details[:6]))
        if parts:
            cell = r["cell"] if r["kind"] != "kill" else f"{r['cell']} at {r['kill_after_seconds']} s"
            notes.append(f"- **{cell}**: " + "; ".join(parts))
    if notes:
        out.append("\n" + "\n".join(notes))
    return "\n".join(out)


def md_generic(d: dict[str, Any]) -> str:
    scalars = [[k, v] for k, v in d.items() if not isinstance(v, (dict, list)) and k != "benchmark"]
    nested = {k: v for k, v in d.items() if isinstance(v, (dict, list))}
    out = [table(["figure", "value"], scalars)] if scalars else []
    if nested:
        out.append("```json\n" + json.dumps(nested, indent=1, sort_keys=True)[:6000] + "\n```")
    return "\n".join(out)


def md_growth(d: dict[str, Any]) -> str:
    rows = [[r["mode"], r["services"], r["objects"], r["phase"], f"{r['seconds']:.2f}",
             "-" if r.get("cpu_seconds") is None else f"{r['cpu_seconds']:.2f}", r["api_requests"],
             "-" if r.get("x_request_time") is None else f"{r['x_request_time']:.1f}", r["bytes_per_resource"] or "-",
             f"{r['cli_rss_mb']:.0f}", f"{r['plugin_rss_mb']:.0f}"] for r in d["results"]]  # fmt: skip
    out = [table(["mode", "N", "objects", "phase", "seconds", "CPU s", "API requests", "x request time at 40/s",
                  "state bytes per resource", "CLI peak MB", "plugin peak MB"], rows)]  # fmt: skip
    if d.get("exponents"):
        out += ["", "Growth exponents k = log(t2/t1) / log(n2/n1) between consecutive sizes (n = Sentry objects):", ""]
        out += [table(["mode", "phase", "N", "k", "issue 26 (k <= 1.15)"], [
            [k["mode"], k["phase"], f"{k['from']} -> {k['to']}", f"{k['k']:.2f}",
             "-" if k["limit"] is None else yes(k["k"] <= k["limit"])] for k in d["exponents"]])]  # fmt: skip
    if d.get("checkpoint_share"):
        out += ["", "Share of the time in Pulumi's checkpoints, 1 - t(PULUMI_SKIP_CHECKPOINTS) / t(default):",
                "", table(["N", "phase", "default s", "no checkpoints s", "share"], [
                    [c["services"], c["phase"], c["checkpoints"], c["no_checkpoints"], c["share"]]
                    for c in d["checkpoint_share"]])]  # fmt: skip
    return "\n".join(out)


def md_pulumi_floor(d: dict[str, Any]) -> str:
    med, first = d["medians"], d["first_up"]
    names = ("empty", "ours empty", "floor", "ours")
    rows = []
    for phase in ("first up", "preview", "change"):
        v = {s: first[s] if phase == "first up" else med[s][phase] for s in names}
        rows.append([phase, *(f"{v[s]:.2f}" for s in names), f"{v['ours'] - v['floor']:.2f}",
                     f"{v['floor'] / v['empty']:.2f}", f"{v['floor'] / v['ours empty']:.2f}",
                     f"{v['ours'] / v['ours empty']:.2f}"])
    out = [f"{d['objects']} objects (N={d['services']}), {d['repeat']} rounds, medians in seconds, checkpoints on:", "",
           table(["phase", "empty program", "ours, no service", "floor (a plugin that does nothing)", "ours",
                  "ours - floor", "floor / empty", "floor / ours no service", "ours / ours no service"], rows), "",
           f"The change's {d['services'] + 1} requests need {d['change_request_seconds']:.2f} s at 40/s (issue 26's "
           f"target: within 2x, {2 * d['change_request_seconds']:.2f} s). State per resource: floor "
           f"{d['state_bytes_per_resource']['floor']} bytes, ours {d['state_bytes_per_resource']['ours']} bytes."]
    if d.get("growth"):
        out += ["", table(["floor objects", "first up s", "change s", "state bytes per resource"],
                          [[g["objects"], g["up"], g["change"], g["state_bytes_per_resource"]] for g in d["growth"]])]
        out += ["", table(["floor growth", "up k", "change k"],
                          [[f"{k['from']} -> {k['to']}", k["up"], k["change"]] for k in d["exponents"]])]
    return "\n".join(out)


RENDER = {"api_requests": md_api_requests, "pulumi_floor": md_pulumi_floor,
          "throughput": md_throughput, "scale": md_scale, "faults": md_faults,
          "growth": md_growth, "growth_sentry": md_growth}
TITLE = {
    "api_requests": "1. Requests per operation",
    "throughput": "2. Throughput under Sentry's limits",
    "scale": "3. Scale: no-op preview",
    "sdk_floor": "3b. The SDK's floor: a no-op preview of trivial dynamic resources",
    "pulumi_floor": "3e. Which part is Pulumi's: the same workload on a provider plugin that does nothing",
    "growth_sentry": "3c. The side-by-side workload at Sentry's limits (101 and 201 objects)",
    "growth": "3d. Growth: up, preview, change, refresh and destroy from 501 objects up",
    "faults": "4. Fault tolerance",
    "ingest": "Ingest (localsentry)",
    "rotation": "5. Rotation under load",
    "sourcemaps": "6. Source maps per release",
}


def headline(results: dict[str, dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    d = (results.get("api_requests") or {}).get("data")
    if d:
        for n in d["sizes"]:
            rows = {(r.get("variant", "after"), r["op"]): r for r in d["results"] if r["services"] == n}
            up, change = rows.get(("after", "up")), rows.get(("after", "change"))
            b_up, b_change = rows.get(("before", "up")), rows.get(("before", "change"))
            if up and change:
                before = (f" (before: {b_up['requests']}, {b_up['ratio']:.2f}x; {b_change['requests']}, "
                          f"{b_change['ratio']:.2f}x)") if b_up and b_change else ""
                lines.append(
                    f"Requests, N={n} ({up['objects']} objects): `up` from empty {up['requests']} requests "
                    f"({up['ratio']:.2f}x the one-write-per-object minimum), `up` changing N+1 objects "
                    f"{change['requests']} ({change['ratio']:.2f}x){before}.")
    d = (results.get("throughput") or {}).get("data")
    if d:
        for variant in ("before", "after"):
            ups = [r for r in d["results"] if r["op"] == "up" and r.get("variant", "after") == variant]
            if not ups:
                continue
            best = max(ups, key=lambda r: r["ratio_to_limit"])
            fastest = min(r["seconds"] for r in ups)
            throttled = sum(r["throttled_429"] for r in d["results"] if r.get("variant", "after") == variant)
            failed = sum(r["failed_operations"] for r in d["results"] if r.get("variant", "after") == variant)
            lines.append(
                f"Throughput ({variant}): {d['objects']} objects created and destroyed at --parallel "
                f"{', '.join(str(r['parallel']) for r in ups)} against 40 req/s and 25 concurrent: first `up` "
                f"{fastest} s at best, up to {best['requests_per_second']} requests/s ({best['ratio_to_limit']:.2f} "
                f"of the limit), {throttled} 429 answers, {failed} failed operations.")
    d = (results.get("scale") or {}).get("data")
    if d:
        for code in ("after", "before"):
            parts = [f"{r['objects']} objects {r['ratio_to_empty']:.2f}x" for r in d["results"]
                     if r["objects"] and r.get("code", "after") == code]  # fmt: skip
            if parts:
                lines.append(f"No-op preview wall time vs an empty program ({code}): " + ", ".join(parts)
                             + " (0 API requests).")
    for name in ("growth_sentry", "growth"):
        d = (results.get(name) or {}).get("data")
        if d:
            by = {(r["mode"], r["phase"], r["objects"]): r for r in d["results"]}
            parts = [f"{o} objects: " + ", ".join(
                f"{p} {by[('checkpoints', p, o)]['seconds']:.1f} s" for p in ("up", "preview", "change",
                                                                              "preview --refresh", "destroy")
                if ("checkpoints", p, o) in by) for o in sorted({r["objects"] for r in d["results"]})]  # fmt: skip
            ks = [f"{k['phase']} {k['k']:.2f}" for k in d.get("exponents", []) if k["mode"] == "checkpoints"
                  and k["phase"] in ("up", "change") and k["from"] >= 100]  # fmt: skip
            limits = "at Sentry's limits" if d.get("sentry_limits") else "without rate limits"
            lines.append(f"Growth ({limits}): " + "; ".join(parts)
                         + (f"; k from N=100 up: {', '.join(ks)}" if ks else "") + ".")
    d = (results.get("faults") or {}).get("data")
    if d:
        cells = [r for r in d["results"] if r["kind"] != "kill"]
        kills = [r for r in d["results"] if r["kind"] == "kill"]
        lines.append(
            f"Faults: {sum(bool(r.get('converged')) for r in cells)} of {len(cells)} fault cells (5xx, 429, slow, "
            f"dropped connections at 0/5/20%) converged, with {sum(r.get('duplicates', 0) for r in cells)} "
            f"duplicates and {sum(r.get('orphans', 0) for r in cells)} orphans; after `kill -9` of the CLI, "
            f"{sum(bool(r.get('converged')) for r in kills)} of {len(kills)} single reruns converged "
            f"({sum(r.get('orphans', 0) for r in kills)} orphans, {sum(r.get('duplicates', 0) for r in kills)} "
            f"duplicates)" + (
                f"; of the others, one `up` with `adoptExisting: true` recovered {recovered(kills)} of "
                f"{sum(1 for r in kills if r.get('recovery_with_adopt_existing'))} (causes in section 4)."
                if any(r.get("recovery_with_adopt_existing") for r in kills) else "."))
    for name in ("ingest", "rotation", "sourcemaps"):
        item = results.get(name)
        if item and item.get("data"):
            figures = {k: v for k, v in item["data"].items() if isinstance(v, (int, float)) and k != "seconds"}
            lines.append(f"{TITLE[name]}: " + ", ".join(f"{k} {v}" for k, v in list(figures.items())[:6]))
        elif item and item.get("text"):
            lines.append(f"{TITLE[name]}: " + item["text"].strip().splitlines()[-1])
    return lines


def write_doc(out: Path, results: dict[str, dict[str, Any]], info: dict[str, Any], quick: bool,
              argv: list[str], started: str, info_after: dict[str, Any]) -> None:  # fmt: skip
    total = sum(r["seconds"] for r in results.values())
    doc = ["# Benchmarks", "",
           f"Generated by `{shlex.join([PY, 'bench/run_all.py', *argv])}` (what `make bench` runs) on {started}"
           f"{' (quick run: smaller sizes)' if quick else ''}; all benchmarks took {total / 60:.1f} min.",
           "Every figure below was measured in that one run; every ratio divides two figures of the same run.",
           "", "## Headline", ""]  # fmt: skip
    doc += [f"- {line}" for line in headline(results)]
    load = f"{info.get('loadavg', ['?'])[0]} / {info_after.get('loadavg', ['?'])[0]}"
    doc += ["", "## Machine", "", table(["", ""], [
        ["CPUs (nproc)", info.get("nproc")], ["CPU model", info.get("cpu")],
        ["memory", f"{info.get('memory_gib')} GiB"], ["OS", info.get("os")], ["Pulumi CLI", info.get("pulumi")],
        ["Pulumi Python SDK", info.get("pulumi_package")], ["Python", info.get("python")],
        ["sentry-sdk", info.get("sentry_sdk_package")], ["load average (1 min) before / after", load],
    ]), ""]  # fmt: skip
    doc += ["All traffic goes to localsentry on 127.0.0.1 (port 0), which enforces Sentry's limits (40 requests/s "
            "per token in a fixed 1 s window, 25 concurrent) unless a benchmark says otherwise. Pulumi runs the real "
            "CLI on a throw-away file backend with the repository's Python language host.", ""]  # fmt: skip
    doc += ["## Commands", "", "```sh",
            f"{'make bench':<45} # = venv/bin/python bench/run_all.py",
            f"{'venv/bin/python bench/run_all.py --quick':<45} # smaller sizes, a few minutes", "# this run:"]
    doc += [f"{r['command']:<45} # {r['seconds']:.0f} s, exit {r['exit_code']}" for r in results.values()]
    doc += ["```", ""]
    for name, r in results.items():
        doc += [f"## {TITLE.get(name, name)}", "",
                f"`{r['command']}` ({r['seconds']:.0f} s, exit {r['exit_code']})", ""]
        if r["data"] is not None and name in RENDER:
            doc += [RENDER[name](r["data"]), ""]
        elif r["data"] is not None:
            doc += [md_generic(r["data"]), ""]
        if r["data"] is not None and name in NOTES:
            doc += NOTES[name](r["data"])
        if r["text"]:
            doc += ["<details><summary>printed output</summary>", "", "```text", r["text"], "```", "", "</details>",
                    ""]  # fmt: skip
    out.write_text("\n".join(doc).rstrip() + "\n")


def recovered(kills: list[dict[str, Any]]) -> int:
    """Kill cells whose recovery with adoptExisting converged."""
    return sum(bool((r.get("recovery_with_adopt_existing") or {}).get("converged")) for r in kills)


def notes_api_requests(d: dict[str, Any]) -> list[str]:
    return [
        "Minimum: one write per object created, changed or deleted; no request for a no-op `up` or a `preview`; "
        "one read per object for `refresh`. (The benchmark's program declares the Sentry objects only; the stack's "
        "own program adds one read of the organization per `preview` or `up`, its connection check in "
        "infra/sentry/preflight.py.) `destroy` in the default shared project mode deletes the stack's keys, "
        "monitors and alert (2N+1) and deliberately keeps the shared projects and their filters for the other "
        "stacks.",
        "",
        "Before, every create looked its object up by name first, a project was read twice after its POST, each "
        "inbound filter listed its project's filters before its PUT, each monitor read its project for the "
        "numeric id, the alert resolved each watched project's detector with two reads on create and on every "
        "update, and Sentry's 'Default' key was listed and deleted while the stack's key was POSTed. Now a create "
        "POSTs at once and looks up only when the POST answers 409 or its outcome is unknown (timeout, dropped "
        "connection, 5xx after sending) or when the journal of a killed run lists it (infra/sentry/recovery.py); "
        "the stack's current key takes over the 'Default' key with one PUT (the list of keys that finds it is "
        "the one read left per service); and the alert lists every watched project's issue-stream detector in one "
        "request, with the project ids from the Project resources, and on update takes them from its state.",
        "",
        "What is left above the minimum, and why it is the floor: Sentry's API gives the 'Default' key's id and a "
        "project's issue-stream detector id only through a read (the project's POST answer carries neither). "
        "That is 1 read per service plus 1 per alert, so `up` from empty is (6N+2)/(5N+1): 1.33x at N=1 (8 "
        "requests for 6 objects; 7 would be 1.17x), 1.23x at N=5 and 1.21x at N=20. The 1.3x target at N=1 "
        "needs one of the two reads gone, and neither id comes back from any write: saving the key read means "
        "leaving Sentry's unused 'Default' key in every project the stack creates (the stray key the fault "
        "matrix counts as a failure), and saving the detector read means an alert that does not act on the "
        "project's issues. We kept both reads.",
        "",
        "`up` changing N+1 objects sends exactly one write per changed object at every N: the alert takes every "
        "watched project's issue-stream detector id from its state (`projectIds` is stored paired with the sorted "
        "`projects`; before that fix, 11 or more projects in declared order svc0..svc10 lost the pairing and "
        "the alert listed detectors once more).",
        "",
    ]


def notes_throughput(d: dict[str, Any]) -> list[str]:
    return [
        "Before, the client paced itself to 85% of the advertised rate (`RATE_SAFETY`: 34 of 40 requests/s). Now "
        "it spends the budget each response advertises (`X-Sentry-Rate-Limit-Remaining` until `-Reset`, minus "
        "the requests in flight) and waits for the reset, one slot below the concurrency limit. Requests/s is "
        "measured over the busy window (first to last request); in a fixed 1 s window a window can take its "
        "full 40, so the ratio can slightly exceed 1.00 with 0 429s." + (
            " The 429 of a 'pacer alone' probe in this run is its first request: it started inside the last, "
            "full window of the probe before it (same token) and knew no budget yet; the probe now starts in a "
            "fresh window, as the phases do."
            if any(p.get("throttled_429") for p in d.get("pacer_alone", [])) else ""),
        "",
        "Provider workers: Pulumi's Python dynamic-provider host serves at most 4 operations at a time "
        "(`ThreadPoolExecutor(max_workers=4)` in pulumi/dynamic/__main__.py). The repository installs "
        "scripts/langhost/pulumi-resource-pulumi-python next to the CLI: the same host with 24 workers "
        "(`SENTRY_STACKS_PROVIDER_WORKERS`). The row 'after, 4 workers' is this code under four. On a quiet "
        "machine four are enough: with about 1.2 requests per operation, four in flight keep up with 40 "
        "requests/s as long as an operation (engine step, gRPC, provider, HTTP round trip) takes less than "
        "4 x 1.2 / 40 s = 120 ms, and here it takes less, so the two rows differ by noise. On a loaded machine "
        "operations take longer and four workers cap the rate (the previous full run, at a load average of 30 "
        "to 80, reached 0.07 of the limit). The baseline runs with four, as it did.",
        "",
        "Where a first `up` of 201 objects spends its time: 242 requests at 40/s need at least 6.05 s; the rest "
        "is the CLI, the language host and the program starting before the first request (about 1.5 s), and the "
        "engine's checkpoints. On the file backend the CLI saves the whole snapshot after every step (JSON of "
        "every resource, an md5 sidecar and a `.bak` copy): 74% of the CLI's CPU in that `up` "
        "(`pulumi up --profiling`, go tool pprof), quadratic in the stack size, and Pulumi's. Ours in it is the "
        "size of each resource's state: the serialized provider (`__provider`, in inputs and outputs) used to be "
        "a secret and was encrypted on every save; it holds only a class reference and is now plain, which took "
        "the CLI's CPU for that `up` from 8.2-8.9 s to 6.3-6.8 s and the wall time from 8.7-9.1 s to 7.8-7.9 s "
        "in runs made the same morning. The Terraform provider's figure for the same workload (12.8 s, "
        "measured by the issue's author) is not reproducible here: no Terraform or OpenTofu can be downloaded.",
        "",
        "In the 60-second-window run the budget of a window goes at once and the pacer then waits for the reset "
        "(so wall time is whole windows, and requests/s over the busy time exceeds limit/60); the figure that "
        "matters there is 0 failed operations. Before, the client learned no window from the JSON-object body "
        "and kept sending at about 34/s, each refusal a 429 retried with backoff.",
        "",
    ]


OWNER = {
    "pulumi CLI + engine (Go)": (
        "Pulumi's: loading the stack (the passphrase's key derivation alone is about 0.18 s, also in the empty "
        "program), the engine's step generation and display per resource"),
    "language host (scripts/langhost)": (
        "ours (this repository's Python host), started twice per command by the engine; its cost does not grow "
        "with the stack"),
    "program (language host's exec of __main__.py)": (
        "mostly Pulumi's Python SDK per registered resource (about 3 ms of CPU: an asyncio task per output, a stack "
        "trace, the RegisterResource call, the wait for every pending output after each completion); ours: importing "
        "infra/ and loading the settings (about 0.3 s) and SentryApp's typed inputs"),
    "provider plugin (sentrystacks)": (
        "ours on Pulumi's SDK: about 0.4 s of CPU until it listens (the interpreter, Pulumi's SDK, the pydantic "
        "models of infra/sentry), then about 0.2 ms per check or diff in Python (half of it the SDK's property "
        "(un)marshalling) plus gRPC"),
    "dynamic provider (pulumi.dynamic)": (
        "Pulumi's host (process start, gRPC, property (de)serialisation, a new asyncio loop per Check) and ours "
        "(check() and diff(), importing infra/sentry)"),
}


def md_profile(d: dict[str, Any]) -> str:
    rows = d.get("profile") or []
    if not rows:
        return ""
    table_rows = [[r["kind"], r["empty_cpu"], r["empty_span"], r["cpu"], r["span"], r["delta_cpu"],
                   OWNER.get(r["kind"], "")] for r in rows]  # fmt: skip
    return ("\nWhere the time goes (one sampled preview of the empty program and of the largest stack, median of "
            "the sampled runs; CPU seconds per process kind from /proc; span = seconds after the CLI started):\n\n"
            + table(["process", "empty: CPU s", "empty: span", "largest: CPU s", "largest: span", "CPU s added",
                     "whose"], table_rows))  # fmt: skip


def notes_scale(d: dict[str, Any]) -> list[str]:
    big = max((r for r in d.get("results", []) if r.get("objects")), key=lambda r: r["objects"], default=None)
    ratio = f"{big['ratio_to_empty']:.2f}x for {big['objects']} objects in this run" if big else "see above"
    return [
        "The empty program is the same project, config and CLI with no resources (it does not import infra/). "
        "A no-op preview sends no request to Sentry; its cost is the CLI, the language host running the program "
        "and a check and a diff call per resource to the provider plugin.",
        "",
        f"The 2x target is not met ({ratio}). The path of a 201-object preview, in order (measured on 2026-12-07 "
        "with the engine's log and timestamps from the program and the plugin): the CLI loads the stack and starts "
        "the program as for the empty program; the program imports Pulumi's SDK and infra/ and loads the settings "
        "(about 0.5 s) and registers the provider; the engine then starts the plugin, which needs about 0.4 s of "
        "CPU before it listens, and every resource waits for the provider's id meanwhile; then the 201 "
        "registrations flow at about 4.5 ms each (the SDK's work in the program, the engine's step, a check and a "
        "diff of about 0.2 ms each in the plugin); the program exits about 0.3 s after the last one (the SDK's "
        "wait for every pending output, the executor's shutdown), and the engine stops the plugin.",
        "",
        "Ours, and changed (issue 26; before/after in one run with `--baseline`): the program no longer sends the "
        "SDK's debug messages (four blocking `engine.Log` calls per resource, 828 per preview, which the engine "
        "drops without `--debug`: about 0.25 s of the CLI's CPU and 0.1-0.2 s of the program's; "
        "`SENTRY_STACKS_SDK_DEBUG=1` sends them again); a resource asks only for the outputs its class declares, "
        "so the program makes 2,018 Outputs instead of 3,623 (each an asyncio task the SDK waits for); the plugin "
        "works out each model's fields once (a check plus a diff: 267 -> 214 microseconds of CPU in process). The "
        "benchmarks now run with Python's bytecode cache, as a user's machine does: without it every command "
        "compiled infra/ (about 0.3 s of CPU between the program and the plugin, which the empty program does "
        "not pay).",
        "",
        "Pulumi's: the Python SDK's cost per registered resource (about 3 ms of CPU in the program; the spike's "
        "floor of 201 trivial resources of a Python plugin is 1.9-2.4x an empty program on this machine), the "
        "engine's per-step work, starting a Python plugin (the SDK's import alone is about 0.2 s) and the "
        "passphrase's key derivation per command. Left on our side: importing less in the plugin before it listens "
        "(most of the 0.4 s is Pulumi's SDK, grpc and pydantic). Done since: in a preview the program registers "
        "the provider before it loads the toolkit and its settings, and lets the SDK send the registration, so the "
        "plugin starts meanwhile (infra/provider/resource.py; the preflight, which needs the settings, is the "
        "provider's checkConnection function, called once they are loaded): 2.37x -> 2.06x the empty program in "
        "one run of bench/scale.py --baseline.",
        "",
    ]


def notes_faults(d: dict[str, Any]) -> list[str]:
    out = [
        "Faults are drawn per /api/0/ request with the cell's probability and a fixed seed; dropped connections "
        "are half before and half after the request was applied (the ambiguous case a POST must not repeat "
        "blindly); slow responses take 2 s and hold a concurrency slot. 'Converged' means `pulumi up` succeeded "
        "within one rerun and `pulumi preview --expect-no-changes` then passed; duplicates are two Sentry objects "
        "for one declared object, orphans are objects under the stack's names that the state does not know. "
        "Destroy runs under the same faults.",
        "",
    ]
    kills = [r for r in d["results"] if r["kind"] == "kill"]
    if kills:
        out += [
            "`kill -9` of the CLI: the file backend keeps the stack locked (`pulumi up` answers 'the stack is "
            "currently locked by 1 lock(s)') until `pulumi cancel --yes`. The plugin processes outlive the CLI: "
            "the Sentry provider finishes the calls it has in flight (the requests after the kill) and exits "
            "within 0.25 s of noticing the CLI is gone (infra/sentry/base.py watch_cli); the benchmark ends "
            "whatever is left once localsentry has been quiet for 1 s. A random kill lands at the k-th API request of "
            "the run (k drawn from 1 to one less than a fault-free `up` sends), so never while the CLI is still "
            "starting nor after it finished; a targeted kill lands while a one-shot 3 s delay holds the create "
            "(a key's create is its POST, or the PUT by which the first key of a new project takes over Sentry's "
            "'Default' key).",
            "",
        ]
    refused = [r for r in kills if "already exists" in str(r.get("rerun_error", ""))]
    if refused:
        out += [
            f"Why {len(refused)} of {len(kills)} reruns after `kill -9` failed with 'already exists': creates that "
            "had started are recorded as pending operations; the next `pulumi up` drops them from the state "
            "(warning 'Attempting to deploy or update resources with N pending operations from previous "
            "deployment') and creates again. A create whose Sentry object had already been made (or was made by "
            "the surviving provider after the kill) finds it by its stack-scoped name (key `{stack}-{generation}`, "
            "monitor and alert `[app/stack] name`) and refuses it, because infra/sentry adopts existing objects "
            "only with `adoptExisting` (ClientKeyProvider.create, MetricMonitorProvider.create and "
            "AlertProvider.create raise SentryStateError 'already exists ... and this stack did not create it'). "
            "Those objects are the orphans. Recovery: one `up` with `adoptExisting: true`, then false again "
            f"(measured above: it converged for {recovered(refused)} of these {len(refused)}; a failure there is the "
            "project case below), "
            "or `pulumi import` of each object.",
            "",
        ]
    broken = [r for r in kills if r.get("state_after_kill") or r.get("state_repair")]
    if broken:
        out += [
            f"Why {len(broken)} kill(s) left a stack no Pulumi command could load ('failed to load checkpoint: "
            "EOF'): the file backend stores each checkpoint as `<stack>.json` (written to a temporary file and "
            "renamed) plus a metadata sidecar `<stack>.json.attrs` that is not written atomically; a kill during "
            "that write leaves it empty. `pulumi cancel` does not help; removing the empty `.attrs` file does "
            "(measured above). This is Pulumi's file backend, not this project's code.",
            "",
        ]
    own_project = [r for r in kills if "set up by another stack" in str(r.get("rerun_error", ""))
                   + str((r.get("recovery_with_adopt_existing") or {}).get("error", ""))]
    if own_project:
        stray = sum(int(r.get("stray_default_keys") or 0) for r in own_project)
        stray_text = (f"{stray} stray Default key(s) in this run" if stray else
                      "none in this run: the surviving provider had deleted it before it was ended")  # fmt: skip
        out += [
            f"Why {len(own_project)} stack(s) killed during `up` failed on an inbound filter and could not be "
            "recovered with `adoptExisting` (in the rerun, or in the recovery after an 'already exists'): the kill "
            "interrupted a project create; the rerun's ProjectProvider.create finds "
            "the project the killed run created and, in shared mode, adopts it as if another stack had created it "
            "(`adopted: true`, infra/sentry/project.py `_adopt`). SentryApp passes `readOnly = adopted` to the "
            "project's inbound filters (infra/components/sentry_app.py `_filter`), so InboundFilter refuses to set "
            "the filters the killed run never set ('... is False in Sentry but this stack declares True; the "
            "project is shared and was set up by another stack'), on every later `up` too; `adoptExisting` does "
            "not change `adopted`. The adoption path also skips `_default_key`, so a 'Default' key the killed run "
            f"had not deleted yet stays, a live DSN nobody manages ({stray_text}).",
            "",
        ]
    return out


def notes_rotation(d: dict[str, Any]) -> list[str]:
    if "drivers" in d:  # bench/rotation.py on compose and swarm side by side (issue 15)
        per = d["drivers"]
        return [
            "Per driver (" + "; ".join(f"{name}: {r['refused_requests']} requests refused, {r['events_lost']} events "
                                       f"lost" for name, r in per.items()) + "). The backend and worker use "
            "`dsnReload: file`: the rotation rewrites their env file only, they re-initialise sentry-sdk in place, "
            "and neither compose nor Swarm replaces a container. Every event the clients caused (an error with its "
            "id from `X-Sentry-Event-Id`, or a transaction tagged with its `X-Request-Id`) is found in localsentry, "
            "stored under the old or the new key. Swarm: single node, `dnsrr` and `host` publishing (no IPVS here).",
            "",
        ]
    lost = d.get("events_lost", 0)
    return [
        f"Events lost during the rotation: {lost} (minimum 0). Every event the clients caused (an error with its "
        "id from `X-Sentry-Event-Id`, or a transaction tagged with its `X-Request-Id`) is found in localsentry, "
        "stored under the old or the new key. The requests refused while compose replaced the containers "
        f"({d.get('refused_requests', 0)}) never reached the app, so they caused no event: a compose recreate "
        "stops the old container before the new one listens (host networking, one port), which costs about a "
        "second per service; the rotation itself never rejects an event, because both keys stay active until "
        "`finish`.",
        "",
        "The clients are paced (`--rate`, default 60/s in all) at a load the app sustains on this machine. "
        "Unpaced (`--rate 0`, about 130-180 events/s from 2 clients on 2 cores) sentry-sdk in the containers "
        "drops events itself while `pulumi up` holds the CPU: its client reports then say `queue_overflow` and "
        "`backpressure` (the SDK's 100-item transport queue overflows), both before and during a rotation. "
        "Those are an overloaded app's client-side drops, not rotation losses; the benchmark prints the client "
        "reports so they are never silent.",
        "",
    ]


NOTES = {"api_requests": notes_api_requests, "throughput": notes_throughput, "scale": notes_scale,
         "faults": notes_faults, "rotation": notes_rotation}  # fmt: skip


RAW = ROOT / "build" / "bench-results.json"  # everything collected, to re-render the page (build/ is git-ignored)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller runs (a few minutes)")
    parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all present)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--concurrent", action="store_true",
                        help="run the benchmarks at the same time (request counts stay exact; timings get slower)")
    parser.add_argument("--baseline", default="", metavar="REF",
                        help="the 'before' code of the benchmarks that measure one "
                             "(default: where this branch left main)")
    parser.add_argument("--render", metavar="JSON", help=f"only rewrite --out from a saved run ({RAW})")
    args = parser.parse_args()
    out = Path(args.out)
    if args.render:
        saved = json.loads(Path(args.render).read_text())
        write_doc(out, saved["results"], saved["machine"], saved["quick"], saved["argv"], saved["started"],
                  saved["machine_after"])  # fmt: skip
        print(f"wrote {out}")
        return 0
    names = [n for n in ORDER if script_of(n).exists()]
    if args.only:
        wanted = args.only.split(",")
        unknown = [w for w in wanted if w not in names]
        if unknown:
            parser.error(f"unknown or missing benchmarks: {', '.join(unknown)} (present: {', '.join(names)})")
        names = [n for n in names if n in wanted]
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    info = machine()
    print("machine: " + json.dumps(info, sort_keys=True), flush=True)
    results: dict[str, dict[str, Any]] = {}
    if args.concurrent:  # all at once (a loaded shared machine): counts stay exact, timings get slower
        with ThreadPoolExecutor(len(names) or 1) as pool:
            ran = pool.map(lambda n: run_one(n, args.quick, False, args.baseline), names)
            done = dict(zip(names, ran, strict=True))
        for name in names:
            results[name] = done[name]
            print(f"\n=== {done[name]['command']}\n{done[name]['text']}", flush=True)
    else:
        for name in names:
            results[name] = run_one(name, args.quick, baseline=args.baseline)
    info_after = machine()
    argv = list(sys.argv[1:])
    RAW.parent.mkdir(exist_ok=True)
    RAW.write_text(json.dumps({"results": results, "machine": info, "machine_after": info_after, "quick": args.quick,
                               "argv": argv, "started": started}, indent=1))  # fmt: skip
    write_doc(out, results, info, args.quick, argv, started, info_after)
    shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    print(f"\nwrote {shown} (raw figures: {RAW.relative_to(ROOT)})")
    failed = [n for n, r in results.items() if r["exit_code"] != 0]
    if failed:
        print(f"benchmarks that exited non-zero: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
