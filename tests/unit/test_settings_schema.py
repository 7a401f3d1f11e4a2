"""The editor schema and the README reference are generated from the settings model and committed; the stack
files point editors at the schema, and the schema accepts both stack files and refuses a bad one."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from infra.settings import project_defaults, with_defaults
from infra.settings.schema import (
    README_BEGIN,
    README_END,
    SCHEMA_PATH,
    main,
    readme_with_reference,
    reference_markdown,
    schema_text,
)

ROOT = Path(__file__).resolve().parents[2]
MODELINE = "# yaml-language-server: $schema=./schema/stack-config.schema.json"


def validator() -> jsonschema.Draft202012Validator:
    schema = yaml.safe_load((ROOT / SCHEMA_PATH).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def stack_file(stack: str) -> dict[str, Any]:
    """A stack file as the model sees it: Pulumi.yaml's project defaults, then the stack's values."""
    data = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    data["config"] = with_defaults(data["config"], project_defaults(ROOT / "Pulumi.yaml"))
    return data


def errors(data: dict[str, Any]) -> list[str]:
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(data))


def test_committed_schema_is_the_generated_one() -> None:
    assert (ROOT / SCHEMA_PATH).read_text(encoding="utf-8") == schema_text(), (
        "schema/stack-config.schema.json is out of date: run python -m infra.settings.schema")


def test_readme_reference_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert README_BEGIN in readme and README_END in readme
    assert readme == readme_with_reference(readme), "README.md is out of date: run python -m infra.settings.schema"
    block = readme[readme.index(README_BEGIN):readme.index(README_END)]
    assert "| `timeWindowSeconds` | `60` \\| `300` \\| `600`" in block
    assert "**`services.<name>.sentry`**" in block and "| `platform` | Sentry's ids | required |" in block


def test_every_nested_object_has_a_table() -> None:
    """Issue 22: cronMonitors.<name>, releaseTracking, dataCollection and privacy had no table."""
    reference = reference_markdown()
    for heading in ("cronMonitors.<name>", "cronMonitors.<name>.interval", "releaseTracking", "dataCollection",
                    "dataCollection.httpHeaders", "dataCollection: {allow: [...]}", "privacy"):
        assert f"**`{heading}`** — " in reference, heading
    assert "| `scrubIPAddresses` | boolean | — | never store IP addresses" in reference
    assert "| `timezone` | text | `\"UTC\"` | IANA time zone of the crontab, as Sentry lists them" in reference


def test_check_mode_reports_a_stale_copy(tmp_path: Path) -> None:
    (tmp_path / "schema").mkdir()
    (tmp_path / SCHEMA_PATH).write_text(schema_text(), encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    assert main(["--check", "--root", str(tmp_path)]) == 0
    (tmp_path / SCHEMA_PATH).write_text("{}\n", encoding="utf-8")
    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert main(["--root", str(tmp_path)]) == 0 and (tmp_path / SCHEMA_PATH).read_text() == schema_text()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_point_editors_at_the_schema_and_pass_it(stack: str) -> None:
    assert (ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8").splitlines()[0] == MODELINE
    assert errors(stack_file(stack)) == []


def test_secrets_are_accepted_where_values_go() -> None:
    data = stack_file("dev")
    data["config"]["sentry:token"] = {"secure": "v1:abc"}
    services = copy.deepcopy(data["config"]["sentry-stacks:services"])
    services["backend"]["environment"]["DJANGO_SECRET_KEY"] = {"secure": "v1:def"}
    data["config"]["sentry-stacks:services"] = services
    data["config"]["aws:region"] = "eu-west-1"  # other namespaces are not this schema's business
    assert errors(data) == []


def test_a_bad_stack_file_fails_the_schema() -> None:
    data = stack_file("dev")
    cfg = data["config"]
    cfg["sentry-stacks:driver"] = "kubernetes"
    cfg["sentry-stacks:drvier"] = "docker"
    cfg["sentry-stacks:serviceOverrides"] = {"backend": {"port": 70000}}
    monitors = copy.deepcopy(cfg["sentry-stacks:monitors"])
    monitors["error-spike"]["timeWindowSeconds"] = 61
    cfg["sentry-stacks:monitors"] = monitors
    cfg["sentry-stacks:sampling"] = {"traces": 1.5}
    found = errors(data)
    assert found == [
        "config/sentry-stacks:driver: 'kubernetes' is not one of ['compose', 'docker', 'swarm', 'none']",
        "config/sentry-stacks:monitors/error-spike/timeWindowSeconds: 61 is not one of"
        " [60, 300, 600, 900, 1800, 3600, 7200, 14400, 86400]",
        "config/sentry-stacks:sampling/traces: 1.5 is not valid under any of the given schemas",
        "config/sentry-stacks:serviceOverrides/backend/port: 70000 is not valid under any of the given schemas",
        "config: 'sentry-stacks:drvier' does not match any of the regexes: '^(?!sentry-stacks:|sentry:)[^:]+:.+$'",
    ]
