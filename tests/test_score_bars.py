"""What a moderator reads beside a comment: the classifier banner and score bars.

The banner's full reason names files on the server (where weights were looked
for): admins see it, moderators a plain status. Score bars are coloured by the
site's thresholds, with the band in words beside each bar.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from support import app_settings

from moderation.extensions import db
from moderation.models import Comment, Role, Score, Site

from staff_helpers import add_comment, add_moderator, add_site, login


@pytest.fixture
def app_config(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, object]:
    """The classifier chosen as in production (CLASSIFIER=auto), from an empty
    model folder: its reason names the paths where weights were looked for."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    return app_settings(
        tmp_path,
        database_url,
        CLASSIFIER_OBJECT=None,
        CLASSIFIER="auto",
        MODEL_DIR=str(tmp_path / "server-models"),
        CLASSIFIER_PRELOAD=False,
        IN_PROCESS_WORKER=False,
    )


@pytest.fixture
def site(app) -> str:
    add_site(app, "news")
    with app.app_context():
        found = db.session.scalar(sa.select(Site).filter_by(slug="news"))
        found.hold_thresholds = {"toxicity": 0.5, "insult": 0.5, "threat": 0.3}
        found.reject_threshold = 0.9
        db.session.commit()
    return "news"


def test_classifier_paths_are_shown_to_admins_only(app, site, tmp_path):
    reason = app.extensions["screener"].description
    server_path = str(tmp_path / "server-models")
    assert server_path in reason  # what the banner showed every moderator
    add_moderator(app, "mod@example.com", sites=[site])
    add_moderator(app, "admin@example.com", role=Role.ADMIN)

    moderator_page = login(app, "mod@example.com").get("/mod/").text
    assert server_path not in moderator_page
    assert "torch-home" not in moderator_page
    assert "Detoxify's weights are not installed on the server" in moderator_page
    assert "admins only" not in moderator_page

    admin_page = login(app, "admin@example.com").get("/mod/").text
    assert server_path in admin_page
    assert "Why this classifier (admins only)" in admin_page


def _bars(page: str) -> dict[str, tuple[str, str]]:
    """Each score row's label: (its bar's band class, the band's words)."""
    rows = re.findall(
        r'<th scope="row">([a-z ]+)</th>\s*<td><meter class="score-bar score-(\w+)"'
        r'.*?<span class="score-band">([^<]+)</span>',
        page,
    )
    return {label: (band, words) for label, band, words in rows}


@pytest.mark.parametrize(
    ("toxicity", "band", "words"),
    [
        (0.0, "calm", "below hold"),
        (0.49, "calm", "below hold"),
        (0.5, "warning", "holds"),
        (0.89, "warning", "holds"),
        (0.9, "danger", "rejects"),
        (1.0, "danger", "rejects"),
    ],
)
def test_score_bars_are_coloured_by_the_sites_thresholds(
    app, site, toxicity, band, words
):
    """A toxicity of 1.00 reads as danger, not as a calm green bar."""
    add_moderator(app, "mod@example.com", sites=[site])
    comment_id = add_comment(app, site, "A sharp remark.")
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        comment.scores[0].value = toxicity
        # The reject threshold is the screen's for toxicity only: an insult of
        # 1.00 holds, it does not reject.
        comment.scores.append(
            Score(classifier="fixed", version="1", label="insult", value=1.0)
        )
        comment.scores.append(
            Score(classifier="fixed", version="1", label="threat", value=0.29)
        )
        db.session.commit()
    client = login(app, "mod@example.com")
    for page in (
        client.get(f"/mod/comments/{comment_id}").text,
        client.get("/mod/").text,
    ):
        bars = _bars(page)
        assert bars["toxicity"] == (band, words)
        assert bars["insult"] == ("warning", "holds")
        assert bars["threat"] == ("calm", "below hold")
    assert 'low="0.500" high="0.900"' in page  # the meter's own regions agree


def test_a_score_without_a_threshold_is_calm(app, site):
    add_moderator(app, "mod@example.com", sites=[site])
    comment_id = add_comment(app, site, "Another remark.")
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        comment.scores.append(
            Score(classifier="fixed", version="1", label="obscene", value=0.95)
        )
        db.session.commit()
    page = login(app, "mod@example.com").get(f"/mod/comments/{comment_id}").text
    assert _bars(page)["obscene"] == ("calm", "no threshold")
