"""The reader path's mechanics, under the embed and API blueprints: a thread's
first view, posting limits, the read cache, comment counts."""
