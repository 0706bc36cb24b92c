"""Sample predictions at every evaluation: what the model writes, not only how its loss moves.

The loss scores the reference one token at a time; only generation shows what the model writes
on its own (a template, an echo of the dialogue, an empty line). At each evaluation, loss-only
or with generation, `SampleCallback` generates greedily for `eval.samples` fixed validation rows
with at most the preset's generation limit, and writes one `sample` event per row. The rows are
spread evenly over the validation view (`choose_sample_rows`), so the same rows come back at
every evaluation, in a resumed run too, and one row's prediction can be followed through them.
"""

from __future__ import annotations

import time
from typing import Any

from transformers import TrainerCallback

from emosum_tui.core.data import Pair
from emosum_tui.core.events import Phase, SamplePrediction
from emosum_tui.trainer.reporter import Reporter

SOURCE_EXCERPT_CHARS = 400  # enough of a case description to recognise the row by
SAMPLE_DETAIL = "sample predictions"


def choose_sample_rows(pairs: list[Pair], count: int) -> list[Pair]:
    """`count` rows spread evenly over `pairs` (first, ..., towards the last), in file order;
    every row when there are no more than `count`. Deterministic: no seed, no clock."""
    if count <= 0 or not pairs:
        return []
    if count >= len(pairs):
        return list(pairs)
    return [pairs[i * len(pairs) // count] for i in range(count)]


def row_label(pair: Pair) -> str:
    """The row's id as the file has it, else its line number (`line 12`)."""
    return str(pair.row_id) if pair.row_id is not None and not isinstance(pair.row_id, (dict, list)) else f"line {pair.line}"


class SampleCallback(TrainerCallback):
    """Generates for the sample rows in `on_evaluate`, after the Trainer's own evaluation."""

    def __init__(self, reporter: Reporter, rows: list[Pair], max_new_tokens: int, max_source_tokens: int) -> None:
        self.reporter = reporter
        self.rows = rows
        self.max_new_tokens = max_new_tokens
        self.max_source_tokens = max_source_tokens

    def on_evaluate(self, args: Any, state: Any, control: Any, model: Any = None, processing_class: Any = None,
                    **kwargs: Any) -> None:
        if not self.rows or model is None or processing_class is None:
            return
        import torch

        was_training = model.training
        model.eval()
        try:
            with torch.inference_mode():
                for index, pair in enumerate(self.rows):
                    self.reporter.emit(Phase(name="evaluating", done=index, total=len(self.rows), detail=SAMPLE_DETAIL))
                    self._sample(model, processing_class, state.global_step, index, pair)
        finally:
            model.train(was_training)

    def _sample(self, model: Any, tokenizer: Any, step: int, index: int, pair: Pair) -> None:
        started = time.perf_counter()
        encoded = tokenizer(pair.source, max_length=self.max_source_tokens, truncation=True, return_tensors="pt").to(model.device)
        output = model.generate(**encoded, max_new_tokens=self.max_new_tokens, num_beams=1, do_sample=False)
        prediction = tokenizer.decode(output[0], skip_special_tokens=True).strip()
        self.reporter.emit(SamplePrediction(step=step, index=index, row_id=row_label(pair), source=pair.source[:SOURCE_EXCERPT_CHARS],
                                            reference=pair.target, prediction=prediction, seconds=time.perf_counter() - started))
