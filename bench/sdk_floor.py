"""Benchmark (not a test): what Pulumi's Python SDK and engine need for a no-op preview of trivial resources.

    venv/bin/python bench/sdk_floor.py [--objects 201] [--repeat 5]

Two stacks of the same throw-away project: an empty program, and one that registers `--objects` trivial
dynamic resources (no properties; a provider whose diff reports no change; its serialized provider not a
secret, as infra/sentry's). Both are brought up once, then `pulumi preview --expect-no-changes` runs on each,
round-robin, `--repeat` times. Printed: the medians and their ratio, which is the floor under
bench/scale.py's ratio for the same number of Sentry objects. Last stdout line: one JSON object.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import LocalSentry, Stack, emit, median, unique

TRIVIAL = '''
import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider

class Trivial(ResourceProvider):
    serialize_as_secret_always = False

    def create(self, props):
        return CreateResult("trivial", {})

    def diff(self, _id, olds, news):
        return DiffResult(changes=False)

class R(Resource):
    def __init__(self, name):
        super().__init__(Trivial(), name, {})

for i in range(pulumi.Config().get_int("trivial") or 0):
    R(f"r{i}")
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=201)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    samples: dict[int, list[float]] = {0: [], args.objects: []}
    with tempfile.TemporaryDirectory(prefix="bench-sdk-floor-") as tmp:
        base = Path(tmp)
        with LocalSentry.start(base) as ls:
            stacks = {}
            for n in samples:
                st = Stack.create(base, ls, app=unique("floor").replace("-", ""), services=0)
                (st.workdir / "__main__.py").write_text(TRIVIAL)
                st.run("config", "set", "trivial", str(n), check=True)
                st.up(check=True)
                stacks[n] = st
            for _ in range(args.repeat):
                for n, st in stacks.items():
                    samples[n].append(st.preview("--expect-no-changes", check=True).seconds)
            for st in stacks.values():
                st.destroy(check=True)
    empty, full = median(samples[0]), median(samples[args.objects])
    print(f"No-op preview, {args.repeat} runs each (median): empty program {empty:.2f} s, {args.objects} trivial "
          f"dynamic resources {full:.2f} s, ratio {full / empty:.2f}")
    emit({"benchmark": "sdk_floor", "objects": args.objects, "empty_seconds": round(empty, 2),
          "trivial_seconds": round(full, 2), "ratio": round(full / empty, 2),
          "samples": {str(k): [round(v, 2) for v in vs] for k, vs in samples.items()}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
