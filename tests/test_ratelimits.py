"""Posting rate limits: keys, the three limits, the 429 readers see, Redis sharing.

The Redis tests need a server: they run when MODERATION_TEST_REDIS_URL is set
(.ci/run sets it to redis://127.0.0.1:6379/0) and are skipped otherwise.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import RATELIMIT_RUN_PREFIX, DemoThread

from moderation.clients import client_network, network_key, normal_handle
from moderation.config import from_environment
from moderation.extensions import limiter
from moderation.reader.limits import handle_limit_key

from helpers import post_from_iframe

TEST_REDIS_URL = os.environ.get("MODERATION_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(
    not TEST_REDIS_URL,
    reason="set MODERATION_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run",
)
# One prefix per run: reruns never meet the counters a previous run left behind.
RUN_PREFIX = RATELIMIT_RUN_PREFIX
ACCEPTED = {200, 201, 202}


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    """Limits on, small enough to reach in a test."""
    app_config.update(
        RATELIMIT_ENABLED=True,
        RATELIMIT_POST="100 per minute",
        RATELIMIT_POST_HANDLE="100 per minute",
        RATELIMIT_POST_THREAD="100 per minute",
    )
    return app_config


@pytest.fixture(autouse=True)
def _revive_limiter_storage() -> Iterator[None]:
    """The limiter is one object for every app a test process builds, and it
    remembers a dead storage (it then counts in memory until its next retry);
    an unreachable Redis in one test must not leak that into the next."""
    yield
    limiter._storage_dead = False


def client_at(app: Flask, address: str) -> FlaskClient:
    """A test client whose requests come from `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def post_json(client: FlaskClient, demo: DemoThread, handle: str, body: str) -> int:
    return client.post(demo.api, json={"handle": handle, "body": body}).status_code


# Keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("192.0.2.77", "192.0.2.77/32"),
        ("::ffff:192.0.2.77", "192.0.2.77/32"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("not an address", "unknown"),
        (None, "unknown"),
    ],
)
def test_client_network_reduces_address_to_prefix(
    address: str | None, network: str
) -> None:
    assert client_network(address, 32, 64) == network


def test_ipv4_prefix_is_configurable() -> None:
    assert client_network("192.0.2.77", 24, 64) == "192.0.2.0/24"
    assert client_network("2001:db8:1:2::1", 32, 48) == "2001:db8:1::/48"


def test_network_key_is_keyed_hash_without_the_address(app: Flask) -> None:
    def key(address: str, secret: str = "test secret") -> str:
        app.config["SECRET_KEY"] = secret
        with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
            return network_key()

    first = key("2001:db8:1:2::1")
    assert first.startswith("net:")
    assert "2001" not in first and "db8" not in first
    assert key("2001:db8:1:2::ffff") == first  # same /64
    assert key("2001:db8:1:3::1") != first
    assert key("2001:db8:1:2::1", secret="another secret") != first
    assert "192" not in key("192.0.2.77")


def test_handle_limit_key_casefolds_and_hides_the_handle(app: Flask) -> None:
    def key(**request: object) -> str:
        path = "/api/v1/sites/demo/threads/seed-article/comments"
        with app.test_request_context(path, method="POST", **request):  # type: ignore[arg-type]
            return handle_limit_key()

    assert normal_handle("  Ｍaria   SCHMIDT ") == "maria schmidt"
    from_form = key(data={"handle": "Maria  Schmidt"})
    assert from_form == key(json={"handle": "MARIA SCHMIDT"})
    assert from_form != key(json={"handle": "Maria Schmidt2"})
    assert "maria" not in from_form.lower()


# The three limits ---------------------------------------------------------------


def test_network_limit_is_shared_by_embed_form_and_api(
    app: Flask, demo: DemoThread
) -> None:
    app.config["RATELIMIT_POST"] = "2 per minute"
    client = client_at(app, "198.51.100.20")
    assert post_from_iframe(client, demo.embed, body="one").status_code in ACCEPTED
    assert post_json(client, demo, "Reader", "two") in ACCEPTED
    assert post_json(client, demo, "Reader", "three") == 429


def test_ipv6_neighbours_in_one_64_share_the_network_limit(
    app: Flask, demo: DemoThread
) -> None:
    app.config["RATELIMIT_POST"] = "2 per minute"
    assert post_json(client_at(app, "2001:db8::1"), demo, "A", "one") in ACCEPTED
    assert post_json(client_at(app, "2001:db8::2"), demo, "B", "two") in ACCEPTED
    assert post_json(client_at(app, "2001:db8::3"), demo, "C", "three") == 429
    assert post_json(client_at(app, "2001:db8:0:1::1"), demo, "D", "four") in ACCEPTED


def test_handle_limit_holds_across_addresses(app: Flask, demo: DemoThread) -> None:
    app.config["RATELIMIT_POST_HANDLE"] = "2 per minute"
    codes = [
        post_json(client_at(app, f"192.0.2.{n}"), demo, handle, f"comment {n}")
        for n, handle in enumerate(["Spammer", "SPAMMER", " spammer "], start=1)
    ]
    assert codes[:2] == [201, 201] and codes[2] == 429
    other = post_json(client_at(app, "192.0.2.9"), demo, "Someone Else", "hello")
    assert other in ACCEPTED


def test_refused_form_does_not_count_against_the_handle(
    app: Flask, demo: DemoThread
) -> None:
    app.config["RATELIMIT_POST_HANDLE"] = "1 per minute"
    client = client_at(app, "192.0.2.30")
    assert post_json(client, demo, "Ann", "") == 422  # empty body: not stored
    assert post_json(client, demo, "Ann", "Now with words.") in ACCEPTED
    assert post_json(client, demo, "Ann", "And again.") == 429


def test_thread_limit_counts_all_readers_together(app: Flask, demo: DemoThread) -> None:
    app.config["RATELIMIT_POST_THREAD"] = "3 per minute"
    codes = [
        post_json(client_at(app, f"203.0.113.{n}"), demo, f"Reader {n}", f"c {n}")
        for n in range(4)
    ]
    assert all(code in ACCEPTED for code in codes[:3])
    assert codes[3] == 429


# What a reader sees ---------------------------------------------------------------


def test_429_in_the_api_is_json_with_retry_after(app: Flask, demo: DemoThread) -> None:
    app.config["RATELIMIT_POST"] = "1 per minute"
    client = client_at(app, "198.51.100.40")
    post_json(client, demo, "Reader", "first")
    response = client.post(demo.api, json={"handle": "Reader", "body": "second"})
    assert response.status_code == 429
    body = response.get_json()
    seconds = int(response.headers["Retry-After"])
    assert 0 < seconds <= 60
    assert body["error"] == "too_many_requests"
    assert body["message"].startswith("You are posting too fast; try again in ")
    assert abs(body["retry_after"] - seconds) <= 1


def test_429_in_the_iframe_is_a_page_the_site_may_frame(
    app: Flask, demo: DemoThread
) -> None:
    app.config["RATELIMIT_POST"] = "1 per minute"
    client = client_at(app, "198.51.100.41")
    post_from_iframe(client, demo.embed, body="first")
    response = post_from_iframe(client, demo.embed, body="second")
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert "You are posting too fast; try again in " in response.text
    assert f'href="{demo.embed}"' in response.text
    assert 0 < int(response.headers["Retry-After"]) <= 60
    framing = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" not in framing
    assert "X-Frame-Options" not in response.headers


def test_busy_thread_says_so(app: Flask, demo: DemoThread) -> None:
    app.config["RATELIMIT_POST_THREAD"] = "1 per minute"
    post_json(client_at(app, "192.0.2.50"), demo, "First", "one")
    response = client_at(app, "192.0.2.51").post(
        demo.api, json={"handle": "Second", "body": "two"}
    )
    assert response.status_code == 429
    assert "too many comments right now" in response.get_json()["message"]


# Configuration and deployment -----------------------------------------------------


def test_redis_url_sets_the_limit_storage() -> None:
    settings = from_environment({"MODERATION_REDIS_URL": "redis://cache:6379/2"})
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/2"
    explicit = from_environment(
        {
            "MODERATION_REDIS_URL": "redis://cache:6379/2",
            "MODERATION_RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    assert explicit["RATELIMIT_STORAGE_URI"] == "memory://"


def test_forwarded_for_counts_only_when_proxy_fix_is_configured(
    make_app: Callable[..., Flask], demo: DemoThread
) -> None:
    forwarded = {"X-Forwarded-For": "192.0.2.200"}

    def codes(app: Flask) -> list[int]:
        app.config["RATELIMIT_POST"] = "1 per minute"
        client = client_at(app, "10.0.0.1")  # the proxy
        first = client.post(
            demo.api, json={"handle": "A", "body": "a"}, headers=forwarded
        )
        second = client.post(
            demo.api,
            json={"handle": "B", "body": "b"},
            headers={"X-Forwarded-For": "192.0.2.201"},
        )
        return [first.status_code, second.status_code]

    # Without ProxyFix the proxy's address is the client: one bucket for all.
    assert codes(make_app())[1] == 429
    # With it, two readers behind the proxy are two clients.
    assert all(c in ACCEPTED for c in codes(make_app(PROXY_FIX_X_FOR=1)))


def test_unreachable_redis_still_accepts_posts_and_limits_in_memory(
    make_app: Callable[..., Flask],
    demo: DemoThread,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Alembic's fileConfig() in the session's migration disabled existing loggers.
    monkeypatch.setattr(logging.getLogger("flask-limiter"), "disabled", False)
    app = make_app(
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", RATELIMIT_POST="2 per minute"
    )
    client = client_at(app, "198.51.100.60")
    codes = [
        post_from_iframe(client, demo.embed, body=f"n {n}").status_code
        for n in range(3)
    ]
    assert codes[:2] == [201, 201]
    assert codes[2] == 429  # counted in this process's memory meanwhile
    assert "falling back to in-memory storage" in caplog.text


# Redis ------------------------------------------------------------------------------


@needs_redis
def test_redis_limits_hold_across_two_app_instances(
    make_app: Callable[..., Flask], demo: DemoThread
) -> None:
    import redis

    settings = {
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL,
        "RATELIMIT_POST": "4 per minute",
    }
    first, second = make_app(**settings), make_app(**settings)
    address = "198.51.100.70"
    clients = [client_at(first, address), client_at(second, address)]
    codes = [
        post_json(clients[n % 2], demo, f"Reader {n}", f"comment {n}") for n in range(5)
    ]
    assert all(code in ACCEPTED for code in codes[:4]), codes
    assert codes[4] == 429
    # The counts are in Redis, under this run's prefix, with no address in the keys.
    keys = redis.Redis.from_url(TEST_REDIS_URL).keys(f"*{RUN_PREFIX}*")
    assert keys
    assert not any(address.encode() in key for key in keys)


@needs_redis
@pytest.mark.slow
def test_redis_limits_hold_across_two_processes(
    make_app: Callable[..., Flask], demo: DemoThread, app_config: dict[str, object]
) -> None:
    settings = {
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL,
        "RATELIMIT_POST": "3 per minute",
    }
    address = "198.51.100.80"
    here = client_at(make_app(**settings), address)
    assert post_json(here, demo, "Here", "one") in ACCEPTED
    assert post_json(here, demo, "Here", "two") in ACCEPTED
    peer = {
        key: value
        for key, value in {**app_config, **settings}.items()
        if isinstance(value, (str, int, bool))
    }
    script = f"""
import json, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from fakes import FixedClassifier
from moderation import create_app
config = json.loads(sys.argv[1])
# No worker thread: this process exits as soon as it has posted.
config.update(CLASSIFIER_OBJECT=FixedClassifier(), IN_PROCESS_WORKER=False)
app = create_app(config)
client = app.test_client()
client.environ_base["REMOTE_ADDR"] = {address!r}
codes = [
    client.post({demo.api!r}, json={{"handle": "There", "body": f"p{{n}}"}}).status_code
    for n in range(2)
]
print(json.dumps(codes))
"""
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(peer)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    codes = json.loads(result.stdout.strip().splitlines()[-1])
    assert codes[0] in ACCEPTED and codes[1] == 429, result.stderr[-2000:]
    assert post_json(here, demo, "Here", "three") == 429
