"""One tunable preset key: its TOML type, default, help text and the check of possible values.

The schema in `emosum_tui.core.presets` is a table of these. Each check returns None when a
value is possible, else the reason in words (in the interface's language: it becomes a
PresetError's message at once), so the loader can name file, key and value. `help` and `zero`
are English, marked for the catalog where written and translated where they are drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emosum_tui.i18n import _


@dataclass(frozen=True)
class Field:
    """One tunable key: its TOML type, its default and a check of what is possible."""

    kind: type | tuple[type, ...]
    default: Any
    help: str
    check: Callable[[Any], str | None] | None = None
    choices: tuple[str, ...] = ()
    zero: str = ""  # what 0 means, in a word or two, shown instead of "0" ("all", "auto")

    def shown(self, value: Any) -> Any:
        """The value as a person reads it: 0 becomes what it means where it means something else."""
        return self.zero if self.zero and value == 0 and not isinstance(value, bool) else value

    def coerce(self, value: Any) -> Any | None:
        """The value in the field's type, or None when TOML gave something else."""
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        if isinstance(value, bool) and bool not in kinds:
            return None  # TOML true is not an integer here
        if isinstance(value, kinds):
            return value
        if float in kinds and isinstance(value, int):
            return float(value)  # an integer is a fine value for a float key (learning rate 1)
        return None

    @property
    def type_name(self) -> str:
        """The type in words, for error messages ("an integer or a number"), in the interface's language."""
        names = {int: _("an integer"), float: _("a number"), str: _("a string"), bool: _("true or false"), list: _("a list"),
                 dict: _("a table")}
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        words = [names.get(k, k.__name__) for k in kinds]
        text = words[0]
        for word in words[1:]:
            text = _("{first} or {second}").format(first=text, second=word)
        return text


def positive(value: Any) -> str | None:
    return None if value > 0 else _("must be greater than 0")


def non_negative(value: Any) -> str | None:
    return None if value >= 0 else _("must be 0 or more")


def fraction(value: Any) -> str | None:
    return None if 0 < value <= 1 else _("must be a fraction in (0, 1]")


def str_list(value: Any) -> str | None:
    if not value:
        return _("must name at least one field")
    if not all(isinstance(item, str) and item for item in value):
        return _("must be a list of non-empty strings")
    return None


def path_list(value: Any) -> str | None:
    """A list of file paths, possibly empty."""
    if not all(isinstance(item, str) and item.strip() for item in value):
        return _("must be a list of file paths (strings)")
    return None


def non_empty(value: Any) -> str | None:
    return None if value.strip() else _("must not be empty")


# Inline model configs (the demo's tiny mT5) are free-form tables passed to MT5Config; the
# keys here are the ones we price and check, the rest go through to transformers as they are.
MODEL_CONFIG_INTS = ("d_model", "d_ff", "d_kv", "num_layers", "num_decoder_layers", "num_heads")


def model_config(value: Any) -> str | None:
    if not value:
        return None  # no inline config: the model comes from `name`
    for key in MODEL_CONFIG_INTS:
        if key not in value:
            return _("needs {key}").format(key=key)
        item = value[key]
        if not isinstance(item, int) or isinstance(item, bool) or item <= 0:
            return _("{key} must be a positive integer (got {value})").format(key=key, value=repr(item))
    return None
