"""Commands through the CLI runner: screen, load-demo, fetch-model (create-moderator:
test_admin.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa

from moderation.demo.history import ARTICLES
from moderation.extensions import db
from moderation.models import Comment, Moderator


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_screen_writes_every_column_plus_verdicts_and_counts(app, classifier, tmp_path):
    classifier.by_text["You absolute moron."] = {"toxicity": 0.97, "insult": 0.95}
    source = _write_csv(
        tmp_path / "in.csv",
        [
            {"id": "1", "comment_text": "Great reporting, thank you.", "source": "a"},
            {"id": "2", "comment_text": "You absolute moron.", "source": "b"},
            {"id": "3", "comment_text": "Go back to Africa, nigger.", "source": "c"},
            {"id": "4", "comment_text": 'Multi-line,\n"quoted" text.', "source": "d"},
        ],
    )
    output = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(
        args=[
            "screen",
            str(source),
            "--text-column",
            "comment_text",
            "--output",
            str(output),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "screened 4 comments: 2 published, 1 held, 1 rejected" in result.output
    with output.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "id",
        "comment_text",
        "source",
        "toxicity",
        "decision",
        "reasons",
    ]
    assert [r["decision"] for r in rows] == ["publish", "hold", "reject", "publish"]
    assert rows[1]["toxicity"] == "0.9700"
    assert "toxicity 0.97" in rows[1]["reasons"]
    assert "banned word" in rows[2]["reasons"]
    assert rows[3]["comment_text"] == 'Multi-line,\n"quoted" text.'


def test_screen_scores_in_batches(app, classifier, tmp_path):
    rows = [{"text": f"comment number {n}"} for n in range(10)]
    source = _write_csv(tmp_path / "in.csv", rows)
    result = app.test_cli_runner().invoke(
        args=[
            "screen",
            str(source),
            "--text-column",
            "text",
            "--output",
            str(tmp_path / "out.csv"),
            "--batch-size",
            "4",
        ]
    )
    assert result.exit_code == 0, result.output
    assert [len(call) for call in classifier.calls] == [4, 4, 2]


def test_screen_stores_nothing(app, classifier, tmp_path):
    source = _write_csv(tmp_path / "in.csv", [{"text": "hello"}])
    app.test_cli_runner().invoke(
        args=[
            "screen",
            str(source),
            "--text-column",
            "text",
            "--output",
            str(tmp_path / "o.csv"),
        ]
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_screen_names_the_columns_when_the_text_column_is_missing(app, tmp_path):
    source = _write_csv(tmp_path / "in.csv", [{"body": "x", "id": "1"}])
    result = app.test_cli_runner().invoke(
        args=[
            "screen",
            str(source),
            "--text-column",
            "text",
            "--output",
            str(tmp_path / "o.csv"),
        ]
    )
    assert result.exit_code == 2
    assert "no column 'text'" in result.output and "body, id" in result.output
    assert not (tmp_path / "o.csv").exists()


def test_screen_uses_a_sites_thresholds(app, classifier, tmp_path, demo):
    from moderation.models import Site

    with app.app_context():
        site = db.session.scalar(sa.select(Site).filter_by(slug="demo"))
        site.hold_thresholds = {"toxicity": 0.2}
        db.session.commit()
    classifier.scores = {"toxicity": 0.3}
    source = _write_csv(tmp_path / "in.csv", [{"text": "mildly rude"}])
    output = tmp_path / "o.csv"
    args = ["screen", str(source), "--text-column", "text", "--output", str(output)]
    runner = app.test_cli_runner()
    assert "0 held" in runner.invoke(args=args).output
    assert "1 held" in runner.invoke(args=[*args, "--site", "demo"]).output
    assert runner.invoke(args=[*args, "--site", "nope"]).exit_code == 2


def test_load_demo_is_idempotent_and_prints_the_login(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["load-demo", "--public-url", "http://127.0.0.1:8000"])
    second = runner.invoke(args=["load-demo", "--public-url", "http://127.0.0.1:8000"])
    assert first.exit_code == second.exit_code == 0
    assert "5 published comments" in second.output
    password = (Path(app.instance_path) / "demo-moderator.txt").read_text().split()[-1]
    assert password in first.output and password in second.output
    with app.app_context():
        # The seed's five and the decided history (demo/history.py), each once.
        history = sum(len(article.comments) for article in ARTICLES)
        count = sa.select(sa.func.count()).select_from(Comment)
        assert db.session.scalar(count) == 5 + history
        moderator = db.session.scalar(sa.select(Moderator))
        assert moderator.check_password(password)


def test_fetch_model_fails_fast_offline_with_a_clear_message(app, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network unreachable (test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    result = app.test_cli_runner().invoke(args=["fetch-model", "original"])
    assert result.exit_code == 1
    assert "MODERATION_DETOXIFY_CHECKPOINT" in result.output
    assert not list(Path(app.config["MODEL_DIR"]).glob("**/*.ckpt"))
