"""The classifiers: detoxify on a tiny real checkpoint, profanity-check, choose()."""

from __future__ import annotations

import functools
import hashlib
import http.server
import importlib.metadata
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from moderation.screening import classifiers
from moderation.screening.classifiers import (
    Choice,
    Classifier,
    ProfanityCheckClassifier,
    build,
    choose,
    fetch_model,
)
from moderation.screening.detoxify_model import DetoxifyClassifier
from moderation.screening.errors import (
    ClassifierUnavailable,
    FetchFailed,
    ScreeningError,
)

from tiny_detoxify import ORIGINAL_LABELS

TOXIC = "you are an idiot"
CLEAN = "thank you for the article"


@pytest.fixture(scope="module")
def detoxify(tiny_detoxify: tuple[Path, Path]) -> DetoxifyClassifier:
    """The tiny checkpoint loaded through build(), once for this module."""
    checkpoint, config_dir = tiny_detoxify
    choice = choose("detoxify", "original", str(checkpoint), str(config_dir), Path())
    # Detoxify alone: without the screen it is combined with (test_screen_model.py).
    classifier = build(replace(choice, screen_cache=None))
    assert isinstance(classifier, DetoxifyClassifier)
    return classifier


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Make every DNS lookup and connection fail; record the attempts."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.fixture
def online_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo the process-wide offline mode, as in a fresh `fetch` process."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None:
        monkeypatch.setattr(hub, "HF_HUB_OFFLINE", False)


@pytest.fixture
def empty_torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A torch hub cache with nothing in it."""
    home = tmp_path / "torch-home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    return home


# detoxify


def test_detoxify_scores_through_the_real_predict(
    detoxify: DetoxifyClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    from detoxify import Detoxify

    calls: list[object] = []
    real_predict = Detoxify.predict

    def spy(self: Detoxify, text: object) -> object:
        calls.append(text)
        return real_predict(self, text)

    monkeypatch.setattr(Detoxify, "predict", spy)

    toxic, clean = detoxify.score([TOXIC, CLEAN])

    assert calls == [[TOXIC, CLEAN]]
    assert detoxify.labels == ORIGINAL_LABELS
    for scores in (toxic, clean):
        assert tuple(scores) == ORIGINAL_LABELS
        assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in scores.values())
    assert toxic["toxicity"] > clean["toxicity"] + 0.5
    assert toxic["insult"] > clean["insult"] + 0.5


def test_detoxify_describes_itself(
    detoxify: DetoxifyClassifier, tiny_detoxify: tuple[Path, Path]
) -> None:
    checkpoint, _ = tiny_detoxify
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()

    assert isinstance(detoxify, Classifier)
    assert detoxify.name == "detoxify-original"
    assert detoxify.version == (
        f"detoxify {importlib.metadata.version('detoxify')} / "
        f"{checkpoint.name} sha256:{digest[:12]}"
    )
    assert detoxify.limitations == ""


def test_detoxify_handles_empty_single_and_long_batches(
    detoxify: DetoxifyClassifier,
) -> None:
    assert detoxify.score([]) == []
    # predict() squeezes a batch of one to bare floats.
    [single] = detoxify.score([TOXIC])
    assert tuple(single) == ORIGINAL_LABELS
    # Longer than the model's 512 positions: truncated, not an error.
    [long] = detoxify.score(["idiot " * 3000])
    assert 0.0 <= long["toxicity"] <= 1.0


def test_detoxify_batches_match_single_scores(detoxify: DetoxifyClassifier) -> None:
    texts = [TOXIC, CLEAN] * 20  # more than one batch of 32
    together = detoxify.score(texts)
    assert len(together) == len(texts)
    for text, scores in zip(texts[:2], together[:2], strict=True):
        [alone] = detoxify.score([text])
        assert scores == pytest.approx(alone, abs=1e-5)


def test_detoxify_is_safe_to_call_from_many_threads(
    detoxify: DetoxifyClassifier,
) -> None:
    expected = detoxify.score([TOXIC, CLEAN])
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: detoxify.score([TOXIC, CLEAN]), range(16)))
    for result in results:
        for got, want in zip(result, expected, strict=True):
            assert got == pytest.approx(want, abs=1e-5)


def test_loading_and_scoring_never_touch_the_network(
    tiny_detoxify: tuple[Path, Path], no_network: list[object], model_dir: Path
) -> None:
    checkpoint, config_dir = tiny_detoxify
    # Detoxify and the screen it is averaged with, both loaded with no network.
    choice = choose("auto", "original", str(checkpoint), str(config_dir), model_dir)

    classifier = build(choice)
    scores = classifier.score([TOXIC, CLEAN])

    assert len(scores) == 2
    assert no_network == []


def test_config_is_read_from_the_local_dir_not_the_hub_id(
    tiny_detoxify: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upstream issue #126: the checkpoint names `bert-base-uncased`."""
    import torch
    import transformers

    checkpoint, config_dir = tiny_detoxify
    saved = torch.load(checkpoint, weights_only=False)
    assert saved["config"]["arch"]["args"]["model_type"] == "bert-base-uncased"
    asked: list[str] = []
    real = transformers.BertConfig.from_pretrained.__func__  # type: ignore[attr-defined]

    def spy(cls: type, name: object, *args: object, **kwargs: object) -> object:
        asked.append(str(name))
        return real(cls, name, *args, **kwargs)

    monkeypatch.setattr(transformers.BertConfig, "from_pretrained", classmethod(spy))

    DetoxifyClassifier("original", checkpoint, config_dir)

    assert asked
    assert set(asked) == {str(config_dir)}


def test_detoxify_config_without_num_labels_is_a_clear_error(
    tiny_detoxify: tuple[Path, Path], tmp_path: Path
) -> None:
    checkpoint, config_dir = tiny_detoxify
    broken = tmp_path / "config"
    shutil.copytree(config_dir, broken)
    data = json.loads((broken / "config.json").read_text(encoding="utf-8"))
    data.pop("id2label")
    data.pop("label2id")
    (broken / "config.json").write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(ClassifierUnavailable, match="num_labels"):
        DetoxifyClassifier("original", checkpoint, broken)


# profanity-check


def test_profanity_check_scores_an_insult_above_a_clean_sentence() -> None:
    classifier = ProfanityCheckClassifier()

    insult, clean = classifier.score(["you are a fucking idiot", CLEAN])

    assert isinstance(classifier, Classifier)
    assert classifier.labels == ("toxicity",)
    assert insult["toxicity"] > 0.5 > clean["toxicity"]
    assert classifier.score([]) == []


def test_profanity_check_says_what_it_cannot_see() -> None:
    classifier = ProfanityCheckClassifier()

    assert classifier.name == "profanity-check"
    version = importlib.metadata.version("alt-profanity-check")
    assert classifier.version == f"alt-profanity-check {version}"
    assert "threats" in classifier.limitations
    assert "identity attacks" in classifier.limitations


def test_profanity_check_is_safe_to_call_from_many_threads() -> None:
    classifier = ProfanityCheckClassifier()
    expected = classifier.score([TOXIC, CLEAN])
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: classifier.score([TOXIC, CLEAN]), range(32)))
    assert all(result == expected for result in results)


# choose()


def test_auto_picks_detoxify_for_an_explicit_checkpoint(
    tiny_detoxify: tuple[Path, Path],
) -> None:
    checkpoint, config_dir = tiny_detoxify

    choice = choose("auto", "original", str(checkpoint), str(config_dir), Path())

    assert choice == Choice(
        "detoxify",
        "original",
        checkpoint,
        config_dir,
        f"detoxify weights found at {checkpoint} (config {config_dir}), averaged "
        "with the screen (MiniLM encoder + trained heads, profanity-check and rules)",
        screen_cache=Path(),
    )


def test_auto_picks_detoxify_from_the_model_dir(
    tmp_path: Path, empty_torch_home: Path
) -> None:
    local = tmp_path / "models" / "unbiased"
    (local / "config").mkdir(parents=True)
    (local / "config" / "config.json").write_text("{}")
    (local / "checkpoint.ckpt").write_bytes(b"")

    choice = choose("auto", "unbiased", None, None, tmp_path / "models")

    assert (choice.kind, choice.model) == ("detoxify", "unbiased")
    assert choice.checkpoint == local / "checkpoint.ckpt"
    assert choice.config_dir == local / "config"


def test_auto_picks_detoxify_from_the_torch_hub_cache(
    tmp_path: Path, empty_torch_home: Path
) -> None:
    cached = empty_torch_home / "hub" / "checkpoints" / "toxic_original-c1212f89.ckpt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"")
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.json").write_text("{}")

    choice = choose("auto", "original", None, str(config), tmp_path / "models")

    assert (choice.kind, choice.checkpoint, choice.config_dir) == (
        "detoxify",
        cached,
        config,
    )


def test_auto_falls_back_to_the_screen_without_weights(
    tmp_path: Path, empty_torch_home: Path
) -> None:
    choice = choose("auto", "original", None, None, tmp_path / "models")

    assert choice.kind == "screen"
    assert (choice.model, choice.checkpoint, choice.config_dir) == (None, None, None)
    assert choice.screen_cache == tmp_path / "models"
    assert choice.reason.startswith("no detoxify weights at ")
    assert str(tmp_path / "models" / "original" / "checkpoint.ckpt") in choice.reason
    assert "toxic_original-c1212f89.ckpt" in choice.reason
    assert "; using the offline default, the screen (MiniLM" in choice.reason


def test_the_profanity_check_setting_builds_profanity_check(tmp_path: Path) -> None:
    choice = choose("profanity-check", "original", None, None, tmp_path)
    assert isinstance(build(choice), ProfanityCheckClassifier)


def test_auto_falls_back_when_weights_have_no_local_config(
    tiny_detoxify: tuple[Path, Path], tmp_path: Path
) -> None:
    alone = tmp_path / "alone" / "toxic.ckpt"
    alone.parent.mkdir()
    shutil.copyfile(tiny_detoxify[0], alone)

    choice = choose("auto", "original", str(alone), None, tmp_path / "models")

    assert choice.kind == "screen"
    assert "no config directory" in choice.reason


def test_detoxify_setting_without_weights_raises(
    tmp_path: Path, empty_torch_home: Path
) -> None:
    with pytest.raises(ClassifierUnavailable, match="MODERATION_DETOXIFY_CHECKPOINT"):
        choose("detoxify", "original", None, None, tmp_path)


def test_profanity_check_setting_ignores_detoxify_weights(
    tiny_detoxify: tuple[Path, Path],
) -> None:
    checkpoint, config_dir = tiny_detoxify

    choice = choose(
        "profanity-check", "original", str(checkpoint), str(config_dir), Path()
    )

    assert choice.kind == "profanity-check"


@pytest.mark.parametrize(("setting", "model"), [("gpu", "original"), ("auto", "huge")])
def test_unknown_settings_are_refused(setting: str, model: str, tmp_path: Path) -> None:
    with pytest.raises(ClassifierUnavailable, match="unknown"):
        choose(setting, model, None, None, tmp_path)


def test_choose_imports_nothing_heavy(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from moderation.screening.classifiers import choose\n"
        f"choose('auto', 'original', None, None, Path({str(tmp_path)!r}))\n"
        "heavy = {'torch', 'transformers', 'detoxify', 'sklearn'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=60)


def test_checkpoint_urls_match_detoxify() -> None:
    from detoxify.detoxify import MODEL_URLS

    assert {m: classifiers.checkpoint_url(m) for m in MODEL_URLS} == MODEL_URLS


def test_errors_share_a_base_class() -> None:
    assert issubclass(ClassifierUnavailable, ScreeningError)
    assert issubclass(FetchFailed, ScreeningError)


# fetch_model()


def _github_reachable() -> bool:
    try:
        socket.create_connection(("github.com", 443), timeout=2).close()
    except OSError:
        return False
    return True


def test_fetch_fails_fast_without_internet_and_leaves_nothing(
    tmp_path: Path, online_hub: None, empty_torch_home: Path
) -> None:
    """The real network attempt: this machine reaches no model host."""
    if _github_reachable():
        pytest.skip("github.com is reachable: this would download 440 MB")
    model_dir = tmp_path / "models"
    model_dir.mkdir()

    started = time.monotonic()
    with pytest.raises(FetchFailed) as failure:
        fetch_model("original", model_dir, timeout=5)

    assert time.monotonic() - started < 15
    message = str(failure.value)
    assert classifiers.checkpoint_url("original") in message
    assert "MODERATION_DETOXIFY_CHECKPOINT" in message
    assert "MODERATION_DETOXIFY_CONFIG_DIR" in message
    assert list(model_dir.iterdir()) == []


def test_fetch_with_the_network_refused_removes_the_dir_it_made(
    tmp_path: Path, online_hub: None, empty_torch_home: Path, no_network: list[object]
) -> None:
    model_dir = tmp_path / "new" / "models"

    with pytest.raises(FetchFailed, match=r"toxic_original-c1212f89\.ckpt"):
        fetch_model("original", model_dir, timeout=5)

    assert no_network
    assert not model_dir.exists()


def test_fetch_refuses_in_a_process_that_is_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    with pytest.raises(FetchFailed, match="HF_HUB_OFFLINE"):
        fetch_model("original", tmp_path, timeout=5)

    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def release_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local stand-in for the GitHub releases: (base URL, directory served)."""
    root = tmp_path / "releases"
    root.mkdir()
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(root)
    )
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()


def _publish(
    tiny: Path, root: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = f"v0-test/toxic_original-{prefix}.ckpt"
    (root / release).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tiny, root / release)
    monkeypatch.setitem(classifiers.CHECKPOINT_FILES, "original", release)


def test_fetched_model_is_found_by_auto_and_loads_offline(
    tiny_detoxify: tuple[Path, Path],
    tmp_path: Path,
    release_server: tuple[str, Path],
    online_hub: None,
    empty_torch_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import huggingface_hub

    checkpoint, config_dir = tiny_detoxify
    base_url, root = release_server
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    _publish(checkpoint, root, digest[:8], monkeypatch)
    monkeypatch.setattr(classifiers, "DOWNLOAD_URL", base_url)
    repos: list[str] = []

    def snapshot(repo_id: str, **kwargs: object) -> str:
        # The hub's files for the tiny model are its config dir.
        repos.append(repo_id)
        return str(config_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot)
    model_dir = tmp_path / "models"

    fetched = fetch_model("original", model_dir, timeout=5)

    assert repos == ["bert-base-uncased"]
    assert fetched == model_dir / "original" / "checkpoint.ckpt"
    assert sorted(p.name for p in model_dir.iterdir()) == ["original"]
    choice = choose("auto", "original", None, None, model_dir)
    assert choice.kind == "detoxify"
    assert choice.config_dir == model_dir / "original" / "config"
    toxic, clean = build(replace(choice, screen_cache=None)).score([TOXIC, CLEAN])
    assert toxic["toxicity"] > clean["toxicity"]


def test_fetch_rejects_a_file_that_does_not_match_its_hash(
    tiny_detoxify: tuple[Path, Path],
    tmp_path: Path,
    release_server: tuple[str, Path],
    online_hub: None,
    empty_torch_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checkpoint, _ = tiny_detoxify
    base_url, root = release_server
    _publish(checkpoint, root, "00000000", monkeypatch)
    monkeypatch.setattr(classifiers, "DOWNLOAD_URL", base_url)
    model_dir = tmp_path / "models"
    model_dir.mkdir()

    with pytest.raises(FetchFailed, match="sha256"):
        fetch_model("original", model_dir, timeout=5)

    assert list(model_dir.iterdir()) == []
