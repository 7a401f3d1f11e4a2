"""The DSN rotation state machine: every transition, resume after a kill, and each refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infra.commands import ROTATE_DSN
from infra.rotation import (
    COMMAND,
    Rotation,
    RotationRefused,
    ServiceKeys,
    finish_refusals,
    next_generation,
    plan_abort,
    plan_finish,
    plan_start,
    plan_verified,
)

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
GRACE, QUIET, DELETE_GRACE = timedelta(minutes=10), timedelta(minutes=5), timedelta(days=1)


def keys(current: str = "g1", **gens: bool) -> ServiceKeys:
    return ServiceKeys(current=current, generations=tuple((gens or {"g1": True}).items()))


def test_next_generation_names() -> None:
    assert next_generation(keys()) == "g2"
    assert next_generation(keys("g2", g1=False, g2=True, g3=False)) == "g4"
    assert next_generation(keys("blue", blue=True)) == "blue-2"


def test_full_rotation() -> None:
    started_keys, rot = plan_start("backend", keys(), None, T0)
    assert started_keys.current == "g2" and started_keys.active("g1") and started_keys.active("g2")
    assert rot == Rotation(old="g1", new="g2", phase="started", started_at=T0)

    # finish refuses until verified, the grace is over and the old key is quiet
    reasons = finish_refusals("backend", rot, T0 + timedelta(minutes=1), GRACE, QUIET, T0 + timedelta(seconds=50))
    assert len(reasons) == 3
    assert "not verified" in reasons[0] and "grace period" in reasons[1] and "still receives events" in reasons[2]

    rot = plan_verified("backend", rot, T0 + timedelta(minutes=1))
    assert rot.phase == "verified" and rot.verified_at == T0 + timedelta(minutes=1)
    later = T0 + timedelta(minutes=20)
    assert finish_refusals("backend", rot, later, GRACE, QUIET, later - timedelta(seconds=30)) == [
        finish_refusals("backend", rot, later, GRACE, QUIET, later - timedelta(seconds=30))[0]
    ]
    assert finish_refusals("backend", rot, later, GRACE, QUIET, later - timedelta(minutes=6)) == []
    assert finish_refusals("backend", rot, later, GRACE, QUIET, None) == []

    finished_keys, finished = plan_finish(started_keys, rot, later, delete=False, delete_grace=DELETE_GRACE)
    assert finished_keys.current == "g2" and not finished_keys.active("g1")
    assert finished is not None and finished.phase == "finished" and finished.disabled_at == later

    # a later finish after the delete grace removes the old generation and clears the record
    gone_keys, record = plan_finish(finished_keys, finished, later + DELETE_GRACE, delete=False,
                                    delete_grace=DELETE_GRACE)
    assert not gone_keys.has("g1") and record is None


def test_finish_with_delete_removes_old_key_at_once() -> None:
    k, rot = plan_start("web", keys(), None, T0)
    rot = plan_verified("web", rot, T0)
    k2, record = plan_finish(k, rot, T0 + GRACE, delete=True, delete_grace=DELETE_GRACE)
    assert dict(k2.generations) == {"g2": True} and record is None


def test_start_resumes_an_interrupted_rotation() -> None:
    _k, rot = plan_start("backend", keys(), None, T0)
    # killed after the record was written but before the key config: config still says g1 only
    resumed_keys, resumed = plan_start("backend", keys(), rot, T0 + timedelta(minutes=3))
    assert resumed == rot and resumed_keys.current == "g2" and resumed_keys.active("g1")
    # started twice: no second new key
    again_keys, again = plan_start("backend", resumed_keys, resumed, T0 + timedelta(minutes=4))
    assert again_keys == resumed_keys and again == rot


def test_abort_goes_back_and_disables_new() -> None:
    k, rot = plan_start("backend", keys(), None, T0)
    back, aborted = plan_abort("backend", k, rot)
    assert back.current == "g1" and back.active("g1") and not back.active("g2")
    assert aborted.phase == "aborted"
    # abort twice is harmless; a new start after abort begins a fresh rotation with a new name
    back2, _ = plan_abort("backend", back, aborted)
    assert back2 == back
    k3, rot3 = plan_start("backend", back, aborted, T0 + timedelta(hours=1))
    assert k3.current == "g3" and rot3.old == "g1" and rot3.phase == "started"


def test_refusals() -> None:
    with pytest.raises(RotationRefused, match="no rotation under way"):
        plan_verified("backend", None, T0)
    with pytest.raises(RotationRefused, match="nothing to abort"):
        plan_abort("backend", keys(), None)
    with pytest.raises(RotationRefused, match="current key g1 is disabled"):
        plan_start("backend", keys("g1", g1=False), None, T0)
    assert "no rotation under way" in finish_refusals("backend", None, T0, GRACE, QUIET, None)[0]


def test_rotation_config_round_trip_and_validation() -> None:
    rot = Rotation("g1", "g2", "verified", T0, T0 + timedelta(seconds=5))
    assert Rotation.from_config("backend", rot.to_config()) == rot
    with pytest.raises(ValueError, match=r"rotation.backend.phase must be one of"):
        Rotation.from_config("backend", {**rot.to_config(), "phase": "done"})
    with pytest.raises(ValueError, match=r"rotation.backend.startedAt must be an ISO-8601"):
        Rotation.from_config("backend", {**rot.to_config(), "startedAt": "yesterday"})


def test_refusals_name_the_command_that_ran() -> None:
    """What to run next is the command line the user ran (up to its --stack), with the service and the step; without
    one, the installed command: never a bare `rotate-dsn`, which exists nowhere."""
    ran = "venv/bin/sentry-stacks-rotate-dsn --stack prod"
    with pytest.raises(RotationRefused) as refused:
        plan_verified("api", None, T0, command=ran)
    assert f"run `{ran} --service api start` first" in str(refused.value)
    with pytest.raises(RotationRefused) as refused:
        plan_start("api", keys("g1", g1=False), None, T0, command=ran)
    assert f"`{ran} --service api abort`" in str(refused.value)
    _, rot = plan_start("api", keys(), None, T0)
    reasons = finish_refusals("api", rot, T0 + timedelta(minutes=1), GRACE, QUIET, T0 + timedelta(seconds=50),
                              command=ran)  # fmt: skip
    assert [f"`{ran} --service api {step}`" in r for r, step in zip(reasons, ("verify", "finish", "status"),
                                                                        strict=True)] == [True, True, True], reasons
    assert COMMAND.split()[0] == ROTATE_DSN
    default = finish_refusals("api", None, T0, GRACE, QUIET, None)[0]
    assert f"`{ROTATE_DSN} --stack <stack> --service api start`" in default and "`rotate-dsn" not in default
