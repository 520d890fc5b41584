"""What the tests share besides fixtures: settings, constants, the demo thread.

Fixtures live in conftest.py; test modules import plain names from here, never
from conftest or from another test module.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from fakes import FixedClassifier

MODERATOR_PASSWORD = "correct horse battery staple"
# Flask-Limiter keeps the first key prefix it is given for the whole process, so
# every app in a run shares this one; Redis-backed tests look for their keys by it.
RATELIMIT_RUN_PREFIX = f"moderation-test-{uuid.uuid4().hex[:12]}"

# Headers a browser sends when the iframe's own form posts back to us.
BROWSER_POST = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}


def app_settings(
    tmp_path: Path, database_url: str, **extra: object
) -> dict[str, object]:
    """An app's settings for one test: its own instance folder and database."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "CLASSIFIER_OBJECT": FixedClassifier(),
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_KEY_PREFIX": RATELIMIT_RUN_PREFIX,
        # Tests look at a page right after changing it: no reuse of the lookup.
        "READ_LOOKUP_TTL": 0,
        "PUBLIC_URL": "http://localhost",
        # Generous: a slow CI machine must not turn a verdict into "being checked".
        "VERDICT_WAIT": 10.0,
        # Tests send the outbox themselves (outbox.drain), when they look; the
        # in-process sender is tested on its own (test_outbox.py).
        "IN_PROCESS_SENDER": False,
        **extra,
    }


@dataclass(frozen=True)
class DemoThread:
    id: int
    site: str = "demo"
    key: str = "seed-article"

    @property
    def embed(self) -> str:
        return f"/embed/{self.site}/{self.key}"

    @property
    def api(self) -> str:
        return f"/api/v1/sites/{self.site}/threads/{self.key}/comments"
