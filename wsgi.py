"""The WSGI entry point: `gunicorn wsgi:app`."""

import logging
import os

from moderation import create_app

logging.basicConfig(
    level=os.environ.get("MODERATION_LOG_LEVEL", "INFO"),
    format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s",
)

app = create_app()
if app.config["CLASSIFIER_PRELOAD"] and app.config["IN_PROCESS_WORKER"]:
    # Load the classifier in the background so the first comment need not wait;
    # only when serving, so that CLI commands start and exit fast, and only where
    # this process scores (with `flask moderation worker` processes it never does).
    app.extensions["screener"].preload()
if app.config["IN_PROCESS_WORKER"]:
    # Screen at once what is waiting: comments a crash or a restart left
    # `received` are drained now, not when the next reader happens to post.
    # (Each gunicorn worker imports this module after the fork, so each starts
    # its own thread; deploy/gunicorn.conf.py does not preload.)
    app.extensions["worker"].wake()
