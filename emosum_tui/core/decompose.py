"""The speed-up from one preset to another, decomposed into factors from the cost model.

The path from one preset to the other changes one group of keys at a time in a fixed order;
each factor is the ratio of modelled total times before and after that change, so the factors
multiply exactly to the total ratio and nothing is counted twice (guessed speed-ups multiplied
together double-count). A factor depends on what was changed before it (halving tokens saves
less once the model is small); the order is stated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emosum_tui.core.cost_model import Estimate, estimate
from emosum_tui.core.presets import Preset, with_values
from emosum_tui.core.token_stats import TokenLengths

if TYPE_CHECKING:
    from emosum_tui.core.calibration import DeviceProfile


@dataclass(frozen=True)
class Factor:
    """One step of the path: `factor` = time after / time before (below 1 = faster)."""

    key: str
    label: str
    factor: float
    before: float = 0.0  # modelled total seconds before this change
    after: float = 0.0


# The fixed order, in the user's words: the groups of keys one decision changes together.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("model", ("model.name", "model.config", "model.tokenizer_vocab_size", "model.gradient_checkpointing")),
    ("vocabulary", ("model.trim_vocabulary", "model.trim_extra_files")),
    ("rows", ("data.train_samples", "data.train_fraction", "data.validation_samples", "data.train_file", "data.validation_file")),
    ("data fields", ("data.source_fields", "data.target_field", "data.source_prefix", "data.seed")),
    ("epochs", ("train.epochs",)),
    ("batch", ("train.batch_size", "train.grad_accum", "eval.batch_size")),
    ("source tokens", ("train.max_source_tokens",)),
    ("target tokens", ("train.max_target_tokens",)),
    ("evaluation", ("eval.strategy", "eval.steps", "eval.predict_with_generate", "eval.generation_max_tokens", "eval.num_beams")),
    ("saving", ("save.steps", "save.checkpoints_kept", "save.logging_steps")),
    ("optimizer", ("train.optimizer", "train.precision", "train.group_by_length")),
)


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dict):
        return "inline config"
    return str(value)


def _label(group: str, before: Preset, after: Preset, changed: dict[str, tuple[Any, Any]], est_before: Estimate,
           est_after: Estimate) -> str:
    """What changed, the way the user would say it."""
    if group == "model":
        return f"model {before['model.name'].removeprefix('google/')} → {after['model.name'].removeprefix('google/')}"
    if group == "vocabulary":
        return f"vocabulary {est_before.vocab_size:,} → {est_after.vocab_size:,} pieces" + (
            " (trimmed to the data)" if after["model.trim_vocabulary"] else "")
    if group == "rows":
        return f"training rows {est_before.train_rows:,} → {est_after.train_rows:,}"
    if group == "epochs":
        return f"epochs {_show(before['train.epochs'])} → {_show(after['train.epochs'])}"
    if group == "batch":
        text = (f"batch {before['train.batch_size']} x {before['train.grad_accum']} → "
                f"{after['train.batch_size']} x {after['train.grad_accum']}")
        eval_before = before["eval.batch_size"] or before["train.batch_size"]
        eval_after = after["eval.batch_size"] or after["train.batch_size"]
        notes = ["padding to the longest row per batch"]
        if est_before.optimizer_steps != est_after.optimizer_steps:
            notes.append(f"{est_before.optimizer_steps:,} → {est_after.optimizer_steps:,} optimizer steps")
        if eval_before != eval_after:
            notes.append(f"eval batch {eval_before} → {eval_after}")
        return f"{text} ({'; '.join(notes)})"
    if group == "source tokens":
        return f"max source tokens {before['train.max_source_tokens']} → {after['train.max_source_tokens']}"
    if group == "target tokens":
        return f"max target tokens {before['train.max_target_tokens']} → {after['train.max_target_tokens']}"
    if group == "evaluation":
        def kind(p: Preset) -> str:
            if p["eval.strategy"] == "no":
                return "no eval"
            how = "generate" if p["eval.predict_with_generate"] else "loss-only"
            when = f"every {p['eval.steps']}" if p["eval.strategy"] == "steps" else "each epoch"
            return f"{how} eval {when}"
        return f"{kind(before)} → {kind(after)}"
    return f"{group}: " + ", ".join(f"{k.split('.', 1)[1]} {_show(a)} → {_show(b)}" for k, (a, b) in changed.items())


def decompose(base: Preset, other: Preset, train_rows: int | None = None, validation_rows: int | None = None,
              device: DeviceProfile | None = None) -> list[Factor]:
    """Factors from `base` to `other`: one per group of keys that differ, in GROUPS order.

    The product of the factors equals estimate(other).total / estimate(base).total, both priced
    with the same device prior (a calibration is per shape, so intermediate plans have none).
    """
    diff = base.diff(other)
    factors: list[Factor] = []
    current = base
    lengths_cache: dict[tuple[Any, ...], TokenLengths] = {}

    def price(preset: Preset) -> Estimate:
        key = tuple(preset[k] for k in ("model.name", "data.train_file", "data.validation_file", "train.max_source_tokens",
                                        "train.max_target_tokens", "data.train_samples", "data.train_fraction",
                                        "data.validation_samples", "data.seed", "data.target_field", "data.source_prefix"))
        key += (str(preset["model.config"]), tuple(preset["data.source_fields"]))
        if key not in lengths_cache:
            lengths_cache[key] = TokenLengths.for_preset(preset)
        return estimate(preset, train_rows=train_rows, validation_rows=validation_rows, lengths=lengths_cache[key], device=device)

    est_current = price(current)
    for group, keys in GROUPS:
        changed = {k: diff[k] for k in keys if k in diff}
        if not changed:
            continue
        following = with_values(current, {k: after for k, (_, after) in changed.items()})
        est_following = price(following)
        factors.append(Factor(group, _label(group, current, following, changed, est_current, est_following),
                              est_following.total_seconds / est_current.total_seconds,
                              est_current.total_seconds, est_following.total_seconds))
        current, est_current = following, est_following
    rest = {k: v for k, v in diff.items() if not any(k in keys for _, keys in GROUPS)}
    if rest:  # keys that do not change the cost (learning rate, warm-up...): a factor of 1, said so
        label = "no cost effect: " + ", ".join(k.split(".", 1)[1] for k in rest)
        factors.append(Factor("other", label, 1.0, est_current.total_seconds, est_current.total_seconds))
    return factors
