"""Build a tiny checkpoint in detoxify's own format, for tests that run offline."""

from __future__ import annotations

from pathlib import Path

# The labels detoxify's `original` model reports, in its order.
ORIGINAL_LABELS = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "threat",
    "insult",
    "identity_attack",
)

# The same six, spelled as its training config spells them; detoxify renames
# toxic, severe_toxic and identity_hate on load.
ORIGINAL_CLASSES = (
    "toxic",
    "severe_toxic",
    "obscene",
    "threat",
    "insult",
    "identity_hate",
)

TOXIC = (
    "you are an idiot",
    "shut up you stupid fool",
    "what a stupid moron",
    "i hate you idiot",
    "you fool shut up",
)
CLEAN = (
    "thank you for the article",
    "great reporting today",
    "i agree with the article",
    "thanks for sharing this",
    "a good point well made",
)

_SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def build_tiny_checkpoint(directory: Path) -> tuple[Path, Path]:
    """Train a 2-layer BERT on toy sentences; return (checkpoint, config dir)."""
    import torch
    import transformers

    directory.mkdir(parents=True, exist_ok=True)
    config_dir = directory / "config"
    config_dir.mkdir(exist_ok=True)

    words = sorted({word for text in TOXIC + CLEAN for word in text.split()})
    vocab_file = directory / "vocab.txt"
    vocab_file.write_text("\n".join(_SPECIAL + tuple(words)) + "\n", encoding="utf-8")
    # model_max_length: without it the tokenizer would not truncate long texts
    # to the 512 positions the model has.
    # transformers 5 takes the vocab file as `vocab` (`vocab_file` is ignored
    # there, leaving every word [UNK]).
    tokenizer = transformers.BertTokenizer(
        vocab=str(vocab_file), do_lower_case=True, model_max_length=512
    )
    tokenizer.save_pretrained(config_dir)

    config = transformers.BertConfig(
        vocab_size=len(_SPECIAL) + len(words),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=len(ORIGINAL_CLASSES),
        # With dropout a model this small learns only the label means in 150
        # steps, and every sentence would score the same.
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    # The local config must carry num_labels == num_classes (see notes/detoxify.md).
    config.save_pretrained(config_dir)

    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    texts = list(TOXIC + CLEAN)
    # Toxic toy sentences are toxic and insulting; clean ones are nothing.
    toxic_row = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    targets = torch.tensor([toxic_row] * len(TOXIC) + [[0.0] * 6] * len(CLEAN))
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    for _ in range(150):
        optimizer.zero_grad()
        loss = loss_fn(model(**batch).logits, targets)
        loss.backward()
        optimizer.step()
    model.eval()

    checkpoint = directory / "toxic_tiny.ckpt"
    torch.save(
        {
            "config": {
                "arch": {
                    "args": {
                        # A hub id, as in the real checkpoints, so that tests
                        # exercise the upstream issue #126 work-around.
                        "model_type": "bert-base-uncased",
                        "model_name": "BertForSequenceClassification",
                        "tokenizer_name": "BertTokenizer",
                        "num_classes": len(ORIGINAL_CLASSES),
                    }
                },
                "dataset": {"args": {"classes": list(ORIGINAL_CLASSES)}},
            },
            "state_dict": model.state_dict(),
        },
        checkpoint,
    )
    return checkpoint, config_dir
