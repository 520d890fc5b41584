"""Configuration: defaults, then instance/config.py, then MODERATION_* variables."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, ClassVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    """Settings the embedded default runs with: SQLite, offline classifier fallback."""

    SQLALCHEMY_DATABASE_URI: str | None = None  # set from instance_path in create_app
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}
    SECRET_KEY: str | None = None  # from the environment or instance/secret_key

    # Where this service is reached; the demo site's allowed origins derive from it.
    PUBLIC_URL = "http://127.0.0.1:8000"

    # Classifier: "auto" uses detoxify when its weights are present, else the fallback.
    CLASSIFIER = "auto"
    DETOXIFY_MODEL = "original"
    DETOXIFY_CHECKPOINT: str | None = None
    DETOXIFY_CONFIG_DIR: str | None = None
    DETOXIFY_DEVICE = "cpu"
    DETOXIFY_THREADS: int | None = None  # torch threads; None keeps torch's default
    MODEL_DIR: str | None = None  # default: instance/models
    # CLASSIFIER="onnx" (never picked by "auto"): the optimize-model export.
    ONNX_DIR: str | None = None  # default: MODEL_DIR/<DETOXIFY_MODEL>/onnx
    ONNX_VARIANT = "int8"  # or "fp32"
    # Start loading the classifier in a background thread at start-up.
    CLASSIFIER_PRELOAD = True
    # Seconds one batch's screening may take before its comments are held as
    # "screening failed". Keep it well under WORKER_LEASE.
    SCREEN_TIMEOUT = 20.0

    # Scoring runs in workers that claim received comments in batches. The
    # embedded default runs one in each web process, started on first use; set
    # IN_PROCESS_WORKER=false when `flask moderation worker` processes run instead.
    IN_PROCESS_WORKER = True
    WORKER_BATCH_SIZE = 64  # a pool the classifier sorts by length (docs/benchmarks.md)
    WORKER_MAX_WAIT = 0.05  # seconds a short batch waits for more comments
    WORKER_LEASE = 60.0  # seconds before a dead worker's claim may be taken over
    WORKER_POLL = 0.1  # seconds an idle worker sleeps between looks (one indexed query)
    # Seconds a reader's POST waits for the verdict before answering "being checked".
    VERDICT_WAIT = 3.0
    # Seconds a post to a site with the authorship nudge on waits for the nudge's
    # check of the draft (services/nudges.py); slower, the post goes on un-nudged.
    NUDGE_TIMEOUT = 1.0

    # Days between scheduled trainings of a site's own head (site_heads.py).
    SITE_HEAD_RETRAIN_DAYS = 7

    # The largest request body read (bytes); a bigger one is answered 413 before
    # it is read. A comment is at most BODY_MAX_LENGTH characters; the largest
    # legitimate bodies are sites' word lists in the settings form.
    MAX_CONTENT_LENGTH = 1024 * 1024

    # How long a SQLite write waits for another process's write before giving up;
    # past it the request answers 503 with Retry-After (errorhandlers.py).
    SQLITE_BUSY_TIMEOUT_MS = 10_000
    # Seconds a client is asked to wait when the database is busy or out of reach.
    DATABASE_RETRY_AFTER = 5

    # Reader form: how long a form token stays valid, and the shape limits.
    FORM_TOKEN_MAX_AGE = 6 * 3600
    BODY_MAX_LENGTH = 5000
    HANDLE_MAX_LENGTH = 40

    # Reading threads: top-level comments per page ("Load more"), and the most an
    # API client may ask for with `limit`.
    THREAD_PAGE_SIZE = 50
    THREAD_PAGE_MAX = 200
    # The read cache (reader/cache.py): rendered pages and JSON, keyed by revisions.
    # In memory per process, or in Redis when REDIS_URL is set. The TTL is capped
    # at a tenth of FORM_TOKEN_MAX_AGE: cached pages carry a form token.
    READ_CACHE_TTL = 300
    # Seconds a web process reuses a thread's revision lookup before asking the
    # database again: how late a change may reach readers of that process (a CDN
    # in front already allows 10 s). 0 asks on every request.
    READ_LOOKUP_TTL = 1.0
    READ_CACHE_ENTRIES = 2000  # in-memory cache only
    READ_CACHE_PREFIX = "moderation:read:"
    # The fast path (reader/fastpath.py): each web process answers a repeated
    # shared thread page from memory, before Flask, within this many bytes.
    READ_FASTPATH_BYTES = 32 * 1024 * 1024

    # Live threads (reader/live.py): an open page is told of new comments. A
    # request waits up to LIVE_WAIT_SECONDS for a change, looking every
    # LIVE_CHECK_SECONDS, while fewer than LIVE_MAX_WAITERS of its process wait
    # (each holds a gthread thread: keep it well under GUNICORN_THREADS, so that
    # page reads always find one). Past it, or on a server without threads, the
    # answer is at once and asks again in LIVE_POLL_SECONDS (docs/benchmarks.md).
    LIVE_WAIT_SECONDS = 25.0
    LIVE_CHECK_SECONDS = 1.0
    LIVE_MAX_WAITERS = 4
    LIVE_POLL_SECONDS = 20.0

    # Rate limits (Flask-Limiter); memory storage in the embedded default, Redis
    # (MODERATION_REDIS_URL) when several web processes must share the counts.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Posting, per client network: an IPv4 address alone (carrier-grade NAT already
    # shares one among many readers), an IPv6 /64 (what one subscriber is given).
    RATELIMIT_POST = "10 per minute;100 per hour"
    RATELIMIT_IPV4_PREFIX = 32
    RATELIMIT_IPV6_PREFIX = 64
    # Per handle on a site, whatever the address: one name posting from many.
    RATELIMIT_POST_HANDLE = "6 per minute;60 per hour"
    # Per thread, all readers together: a flood guard that busy threads never meet.
    RATELIMIT_POST_THREAD = "120 per minute"
    RATELIMIT_LOGIN = "10 per minute"
    # Failed logins per account, whatever the address (a keyed hash of the email).
    RATELIMIT_LOGIN_ACCOUNT = "5 per 15 minutes"
    # Reader reports per network, iframe and API together.
    RATELIMIT_REPORT = "5 per minute;30 per day"
    # Draft previews per network (a read, but each one renders markdown).
    RATELIMIT_PREVIEW = "30 per minute"
    # Readers' "respect" presses per network, every thread together.
    RATELIMIT_RESPECT = "30 per minute;300 per hour"
    # The moderation API, per token.
    RATELIMIT_MODERATION_API = "120 per minute;2000 per hour"
    # Redis down: comments matter more than exact counts. Each process falls back
    # to its own in-memory counters (Flask-Limiter retries Redis with a backoff),
    # and any other limiter error is logged and the request let through: posting
    # never answers 500 for want of a counter. Short timeouts keep a hung Redis
    # from holding every post.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_STORAGE_OPTIONS: ClassVar[dict[str, Any]] = {
        "socket_connect_timeout": 0.5,
        "socket_timeout": 0.5,
    }

    # Mail and webhooks (moderation/notify): written to the outbox in the
    # transaction of the change that causes them, sent by the workers under a
    # lease. MAIL_URL: smtp://user:password@host:587 (STARTTLS when offered;
    # ?tls=required or ?tls=off), smtps://host:465; unset, each mail is an .eml
    # file under MAIL_DIR (default <instance>/mail).
    MAIL_URL: str | None = None
    MAIL_FROM = "Comments <comments@localhost>"
    MAIL_DIR: str | None = None
    MAIL_TIMEOUT = 10.0  # seconds for each SMTP step: a hung server is a failure
    OUTBOX_BATCH = 20  # messages claimed at once
    OUTBOX_LEASE = 120.0  # seconds a claim lasts; a crashed sender's rows return
    OUTBOX_MAX_ATTEMPTS = 8  # then the message is marked failed
    OUTBOX_RETRY_SECONDS = 30.0  # first retry; doubles each time, up to 6 hours
    # The embedded default sends from a thread of the web process, beside its
    # in-process worker (false: `flask moderation worker` processes send).
    IN_PROCESS_SENDER = True
    # How often a sender looks for due messages written by other processes
    # (its own process's commits wake it at once).
    OUTBOX_POLL = 5.0
    # Replies to one comment published within this window go out as one mail.
    REPLY_BATCH_SECONDS = 300.0
    # No address gets more than this many mails an hour, no site sends more;
    # the rest wait (and join the next batch) rather than go out.
    MAIL_PER_ADDRESS_HOUR = 6
    MAIL_PER_SITE_HOUR = 500
    WEBHOOK_TIMEOUT = 5.0
    # Failed deliveries in a row after which a webhook is switched off.
    WEBHOOK_DISABLE_AFTER = 20

    # Behind a reverse proxy: how many X-Forwarded-For hops to trust (werkzeug
    # ProxyFix). 0 trusts none: a client could otherwise pick its own address.
    PROXY_FIX_X_FOR = 0

    # Reader pages' languages (Flask-Babel catalogues in moderation/translations):
    # the embed's `lang` parameter, else the browser's Accept-Language, else the first.
    LANGUAGES: ClassVar[list[str]] = ["en", "fr"]
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "moderation" / "translations")

    # The review queue: minutes an opened comment stays claimed by its moderator,
    # seconds a decision may be undone, and where the tabs' counts stop counting.
    CLAIM_MINUTES = 5
    UNDO_SECONDS = 30
    # An exact count of a million published comments costs a full index scan on
    # every refresh: counts walk an index up to this many rows, then say "10,000+".
    QUEUE_COUNT_CAP = 10_000

    # Moderator session cookie: first-party only. When PUBLIC_URL is https, the
    # session and remember-me cookies are Secure and named __Host-… (bound to
    # this host and path /, never sent in clear); set SESSION_COOKIE_SECURE or
    # REMEMBER_COOKIE_SECURE to true or false to decide otherwise.
    SESSION_COOKIE_SECURE: bool | None = None
    REMEMBER_COOKIE_SECURE: bool | None = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Read MODERATION_* variables, parsing JSON values where they parse."""
    environ = dict(os.environ if environ is None else environ)
    settings: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith("MODERATION_") or key.startswith("MODERATION_TEST_"):
            continue
        name = key.removeprefix("MODERATION_")
        try:
            settings[name] = json.loads(raw)
        except ValueError:
            settings[name] = raw
    if "DATABASE_URL" in settings:
        settings["SQLALCHEMY_DATABASE_URI"] = settings.pop("DATABASE_URL")
    if "REDIS_URL" in settings:
        # Redis holds the rate-limit counters all web processes share.
        settings.setdefault("RATELIMIT_STORAGE_URI", settings["REDIS_URL"])
    return settings


def load_secret_key(instance_path: Path) -> str:
    """The instance's secret key, generated once and kept outside git."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    # Written aside then linked into place: two gunicorn workers starting at once
    # must agree on one key, and neither may read a half-written file.
    temporary = instance_path / f".secret_key.{os.getpid()}"
    temporary.write_text(secrets.token_urlsafe(48))
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()
