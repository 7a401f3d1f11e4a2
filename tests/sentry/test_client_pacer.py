"""The pacer against a real localsentry enforcing Sentry's limits: both 429 body shapes, windows longer than 1 s,
the budget the headers advertise spent without a 429, and a longer window never forgotten after a success."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pulumi.dynamic import Config

from infra.sentry.client import SentryClient, connection_from_config
from tests.support.localsentry import LocalSentry

pytestmark = pytest.mark.sentry


def client_for(ls: LocalSentry) -> SentryClient:
    cfg = Config({"sentry:baseUrl": ls.url, "sentry:organization": ls.org, "sentry:token": ls.token}, "x")
    client = SentryClient(connection_from_config(cfg))
    assert client.pacer.in_flight == 0 and not client.pacer.learned  # a fresh server (port): a fresh pacer
    return client


def burst(client: SentryClient, ls: LocalSentry, count: int, threads: int) -> list[object]:
    def one(_: int) -> object:
        return client.get(f"organizations/{ls.org}/", what="organization")

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


@pytest.mark.parametrize("shape", ["string", "object"])
def test_spends_the_advertised_budget_of_a_longer_window_without_a_429(tmp_path: Path, shape: str) -> None:
    ls = LocalSentry.start(tmp_path, rate_limit=10, concurrent_limit=25)
    try:
        ls.set_limits(rate_limit=10, window=2, body=shape)
        client = client_for(ls)
        ls.reset_stats()
        answers = burst(client, ls, 25, threads=8)  # 2.5 windows' worth
        stats = ls.stats()
        assert len(answers) == 25 and all(isinstance(a, dict) for a in answers)
        assert stats["rate_limited"] == 0  # the budget of each window was spent, never overdrawn
        assert client.pacer.window == 2.0 and client.pacer.limit == 10  # learned from -Reset, not assumed 1 s
        assert client.pacer.throttled == 0
    finally:
        ls.stop()


@pytest.mark.parametrize("shape", ["string", "object"])
def test_learns_the_window_from_a_429_body_and_keeps_it_after_successes(tmp_path: Path, shape: str) -> None:
    ls = LocalSentry.start(tmp_path, rate_limit=6, concurrent_limit=25)
    try:
        ls.set_limits(rate_limit=6, window=3, body=shape)
        client = client_for(ls)
        for _ in range(6):  # another client of the same token spends the whole window's budget
            assert ls.api("GET", f"/api/0/organizations/{ls.org}/", retry_429=False).status_code in (200, 429)
        refused = ls.api("GET", f"/api/0/organizations/{ls.org}/", retry_429=False)
        assert refused.status_code == 429
        body = refused.json()
        assert (isinstance(body, dict) and "Limit is 6 requests in 3 seconds" in body["detail"]) if shape == "object" \
            else body == "You are attempting to use this endpoint too frequently. Limit is 6 requests in 3 seconds"
        assert isinstance(client.get(f"organizations/{ls.org}/", what="organization"), dict)  # waited, then answered
        assert client.pacer.throttled >= 1 and client.pacer.window == 3.0
        burst(client, ls, 4, threads=2)  # successes in later windows never shorten it
        assert client.pacer.window == 3.0 and client.pacer.rate is not None and client.pacer.rate <= 6 / 3
    finally:
        ls.stop()


def test_one_second_window_at_the_full_rate_with_no_429(tmp_path: Path) -> None:
    ls = LocalSentry.start(tmp_path, rate_limit=40, concurrent_limit=25)
    try:
        client = client_for(ls)
        ls.reset_stats()
        answers = burst(client, ls, 130, threads=16)
        assert len(answers) == 130
        assert ls.stats()["rate_limited"] == 0
        assert client.pacer.concurrency == 24 and client.pacer.window == 1.0 and client.pacer.limit == 40
    finally:
        ls.stop()
