"""Seed the read benchmark: one thread of N comments, the same for us and for Isso.

Writes the comments as a Disqus export (which `isso import` reads too), then imports
that file into this service's database with the app's own importer. Run with the
environment of the app under test (MODERATION_DATABASE_URL, ...):

    python bench/read_seed.py --xml bench/out/read/comments.xml --comments 200
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

SITE = "bench"
KEY = "bench-article"
LINK = f"https://news.example/{KEY}/"
TEXT = (
    "the minister said talks would resume next week but critics argued that the "
    "plan leaves out those most affected by rising prices and the council has yet "
    "to publish its figures while residents describe long waits for repairs and "
    "officials promise a review of the budget before winter arrives in the region"
)
WORDS = TEXT.split()
HANDLES = ["Gary1990", "Mara K", "northern_reader", "J. Ortiz", "Ann-Marie", "Tomasz"]


def comments_xml(count: int, seed: int = 200) -> str:
    """A Disqus export of one thread with `count` comments, a third of them replies."""
    rng = random.Random(seed)
    start = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    posts = []
    for number in range(1, count + 1):
        sentences = [
            " ".join(rng.choices(WORDS, k=rng.randint(8, 18))).capitalize() + "."
            for _ in range(rng.randint(1, 4))
        ]
        parent = (
            f'<parent dsq:id="{rng.randint(1, number - 1)}"/>'
            if number > 3 and rng.random() < 0.33
            else ""
        )
        created = (start + timedelta(minutes=7 * number)).strftime("%Y-%m-%dT%H:%M:%SZ")
        posts.append(
            f"""  <post dsq:id="{number}">
    <message><![CDATA[<p>{escape(" ".join(sentences))}</p>]]></message>
    <createdAt>{created}</createdAt>
    <isDeleted>false</isDeleted>
    <isSpam>false</isSpam>
    <author><name>{escape(rng.choice(HANDLES))}</name><email>r{number}@example.org</email>
    </author>
    <thread dsq:id="1"/>{parent}
  </post>"""
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <thread dsq:id="1">
    <id>{KEY}</id>
    <link>{LINK}</link>
    <title>Benchmark article</title>
    <createdAt>2024-03-01T08:00:00Z</createdAt>
  </thread>
{chr(10).join(posts)}
</disqus>
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xml", type=Path, required=True, help="Where to write it.")
    parser.add_argument("--comments", type=int, default=200)
    args = parser.parse_args()
    args.xml.parent.mkdir(parents=True, exist_ok=True)
    args.xml.write_text(comments_xml(args.comments), encoding="utf-8")

    from moderation import create_app
    from moderation.extensions import db
    from moderation.models import Site
    from moderation.porting import disqus
    from moderation.porting.common import store

    app = create_app({"IN_PROCESS_WORKER": False})
    with app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(slug=SITE))
        if site is None:
            site = Site(slug=SITE, name="Read benchmark")
            db.session.add(site)
            db.session.flush()
        result = store(site, disqus.parse(args.xml), filename=args.xml.name)
        print(f"{SITE}/{KEY}: {result.summary()}")


if __name__ == "__main__":
    main()
