"""gunicorn settings for a web node: `gunicorn --config deploy/gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment, so one file serves all nodes.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Threads, not just processes: a reader's POST waits up to VERDICT_WAIT seconds for
# the workers' verdict, and a sync worker would sit idle meanwhile.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# A live thread's long-poll holds a thread while it waits (reader/live.py): let
# such waits take at most half of each worker's threads, so page reads always
# find one, unless MODERATION_LIVE_MAX_WAITERS says otherwise.
if "MODERATION_LIVE_MAX_WAITERS" not in os.environ:
    raw_env = [f"MODERATION_LIVE_MAX_WAITERS={threads // 2}"]
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then: a slow leak never takes a node down.
# A guard against slow leaks, not a routine: a restart reloads the app (seconds
# on a busy machine) and its read cache, so keep it rare (0 turns it off).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10
# Not preloaded: each worker builds its own app, engine and connection pool.
preload_app = False
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# Trust X-Forwarded-* only from the load balancer in front (set its address).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
