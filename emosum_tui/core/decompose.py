"""The speed-up from one preset to another, decomposed into factors from the cost model.

The path from one preset to the other changes one group of keys at a time in a fixed order;
each factor is the ratio of modelled total times before and after that change, so the factors
multiply exactly to the total ratio and nothing is counted twice (guessed speed-ups multiplied
together double-count). A factor depends on what was changed before it (halving tokens saves
less once the model is small); the order is stated. A factor's `label` is drawn in the
interface's language when read; `to_dict` keeps the English (for `--json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emosum_tui.core.cost_model import Estimate, estimate
from emosum_tui.core.presets import Preset, with_values
from emosum_tui.core.token_stats import TokenLengths
from emosum_tui.i18n import N_
from emosum_tui.i18n.phrase import Joined, Phrase

if TYPE_CHECKING:
    from emosum_tui.core.calibration import DeviceProfile


@dataclass(frozen=True)
class Factor:
    """One step of the path: `factor` = time after / time before (below 1 = faster)."""

    key: str
    words: Phrase  # what changed, in the user's words (`label`: in the interface's language)
    factor: float
    before: float = 0.0  # modelled total seconds before this change
    after: float = 0.0

    @property
    def label(self) -> str:
        return self.words.shown()

    def to_dict(self) -> dict[str, Any]:
        """The factor for `--json`: the label in English, whatever the interface's language."""
        return {"key": self.key, "label": str(self.words), "factor": self.factor}


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


# The groups without a label of their own: "saving: steps 500 → 1,000".
OTHER_GROUP_LABELS = {
    "data fields": N_("data fields: {changes}"),
    "saving": N_("saving: {changes}"),
    "optimizer": N_("optimizer: {changes}"),
}
EVAL_KINDS = {  # (predict_with_generate, every N steps)
    (True, True): N_("generate eval every {steps}"),
    (True, False): N_("generate eval each epoch"),
    (False, True): N_("loss-only eval every {steps}"),
    (False, False): N_("loss-only eval each epoch"),
}


def _show(value: Any) -> Phrase | str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dict):
        return Phrase(N_("inline config"))
    return str(value)


def _change(before: Any, after: Any) -> Phrase:
    """"a → b": arrows and values only, the same in every language."""
    return Phrase("{before} → {after}", before=before, after=after)


def _label(group: str, before: Preset, after: Preset, changed: dict[str, tuple[Any, Any]], est_before: Estimate,
           est_after: Estimate) -> Phrase:
    """What changed, the way the user would say it."""
    if group == "model":
        return Phrase(N_("model {before} → {after}"), before=before["model.name"].removeprefix("google/"),
                      after=after["model.name"].removeprefix("google/"))
    if group == "vocabulary":
        said = (N_("vocabulary {before} → {after} pieces (trimmed to the data)") if after["model.trim_vocabulary"]
                else N_("vocabulary {before} → {after} pieces"))
        return Phrase(said, before=f"{est_before.vocab_size:,}", after=f"{est_after.vocab_size:,}")
    if group == "rows":
        return Phrase(N_("training rows {before} → {after}"), before=f"{est_before.train_rows:,}", after=f"{est_after.train_rows:,}")
    if group == "epochs":
        return Phrase(N_("epochs {before} → {after}"), before=_show(before["train.epochs"]), after=_show(after["train.epochs"]))
    if group == "batch":
        eval_before = before["eval.batch_size"] or before["train.batch_size"]
        eval_after = after["eval.batch_size"] or after["train.batch_size"]
        notes = [Phrase(N_("padding to the longest row per batch"))]
        if est_before.optimizer_steps != est_after.optimizer_steps:
            notes.append(Phrase(N_("{before} → {after} optimizer steps"), before=f"{est_before.optimizer_steps:,}",
                                after=f"{est_after.optimizer_steps:,}"))
        if eval_before != eval_after:
            notes.append(Phrase(N_("eval batch {before} → {after}"), before=eval_before, after=eval_after))
        return Phrase(N_("batch {batch} x {accum} → {new_batch} x {new_accum} ({notes})"), batch=before["train.batch_size"],
                      accum=before["train.grad_accum"], new_batch=after["train.batch_size"], new_accum=after["train.grad_accum"],
                      notes=Joined(N_("; "), notes))
    if group == "source tokens":
        return Phrase(N_("max source tokens {before} → {after}"), before=before["train.max_source_tokens"],
                      after=after["train.max_source_tokens"])
    if group == "target tokens":
        return Phrase(N_("max target tokens {before} → {after}"), before=before["train.max_target_tokens"],
                      after=after["train.max_target_tokens"])
    if group == "evaluation":
        def kind(p: Preset) -> Phrase:
            if p["eval.strategy"] == "no":
                return Phrase(N_("no eval"))
            return Phrase(EVAL_KINDS[bool(p["eval.predict_with_generate"]), p["eval.strategy"] == "steps"], steps=p["eval.steps"])
        return _change(kind(before), kind(after))
    changes = Joined(N_(", "), [Phrase("{key} {change}", key=k.split(".", 1)[1], change=_change(_show(a), _show(b)))
                                for k, (a, b) in changed.items()])
    return Phrase(OTHER_GROUP_LABELS.get(group, "{group}: {changes}"), group=group, changes=changes)


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
        label = Phrase(N_("no cost effect: {keys}"), keys=", ".join(k.split(".", 1)[1] for k in rest))
        factors.append(Factor("other", label, 1.0, est_current.total_seconds, est_current.total_seconds))
    return factors
