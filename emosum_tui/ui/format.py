"""Human figures for the console: bytes, durations, counts and change ratios.

One place decides how a figure reads, so "3.6 GB" in the estimates table and "3.6 GB" in a
checkpoint event mean the same thing. Bytes are decimal (GB = 10^9), as disk vendors and
Windows Explorer's free-space figures people compare them with.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len, set_cell_size

from emosum_tui.i18n import _, pgettext

if TYPE_CHECKING:
    from emosum_tui.core.events import Environment

_BYTE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def human_bytes(value: float | None) -> str:
    """`3_600_000_000` -> "3.6 GB"; None -> "?"."""
    if value is None:
        return "?"
    size = float(value)
    unit = 0
    while abs(size) >= 1000 and unit < len(_BYTE_UNITS) - 1:
        size /= 1000
        unit += 1
    if unit == 0:
        return f"{int(size)} B"
    return f"{size:.3g} {_BYTE_UNITS[unit]}" if abs(size) < 100 else f"{size:.0f} {_BYTE_UNITS[unit]}"


def human_duration(seconds: float | None) -> str:
    """A duration at the precision a plan needs: "0.42 s", "12 s", "45 min", "2 h 05", "145 h", "6.2 days"."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    if seconds < 0.01:
        return "0 s" if seconds <= 0 else "<0.01 s"
    if seconds < 10:
        return f"{seconds:.2g} s" if seconds < 1 else f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = seconds / 3600
    if hours < 10:
        whole = int(hours)
        minutes_left = round((hours - whole) * 60)
        if minutes_left == 60:
            whole, minutes_left = whole + 1, 0
        return f"{whole} h {minutes_left:02d}"
    if hours < 200:
        return f"{hours:.0f} h"
    return _("{days} days").format(days=f"{hours / 24:.1f}")


def human_count(value: float | None) -> str:
    """`4945` -> "4,945"; `300176768` -> "300.2 M"."""
    if value is None:
        return "?"
    if abs(value) >= 10_000_000:
        return f"{value / 1e6:,.1f} M"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3g}"


def ratio(base: Any, other: Any) -> float | None:
    """other / base for two positive numbers, else None (text, booleans, zero)."""
    numbers = (int, float)
    if isinstance(base, bool) or isinstance(other, bool):
        return None
    if not isinstance(base, numbers) or not isinstance(other, numbers):
        return None
    if base <= 0 or other <= 0:
        return None  # 0 often means "all" or "off" in a preset (train_samples, grad_clip): no ratio
    return other / base


def ratio_text(value: float | None) -> str:
    """A change as people say it: 2.0 -> "x2", 1.25 -> "x1.25", 0.6 -> "-40%", 1.0 -> "="."""
    if value is None or not math.isfinite(value):
        return ""
    if math.isclose(value, 1.0, rel_tol=1e-9):
        return "="
    if value > 1:
        return f"x{value:.3g}"
    return f"-{(1 - value) * 100:.3g}%"


def change_text(base: Any, other: Any) -> str:
    """The ratio text of two values, or "" when they are not comparable numbers."""
    return ratio_text(ratio(base, other))


def speedup_text(time_factor: float | None) -> str:
    """A time ratio as the user's hand-made table said it: 0.25 -> "4x faster", 3 -> "3x slower"."""
    if time_factor is None or not math.isfinite(time_factor) or time_factor <= 0:
        return "?"
    if math.isclose(time_factor, 1.0, rel_tol=1e-3):
        return pgettext("speed-up", "same")
    if time_factor < 1:
        return _("{times}x faster").format(times=f"{1 / time_factor:.3g}")
    return _("{times}x slower").format(times=f"{time_factor:.3g}")


def value_text(value: Any) -> str:
    """A preset value as a short cell: lists joined, inline tables summarised, floats in TOML style."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        if not value:
            return "-"
        return " ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if value == "":
        return '""'
    return str(value)


def zero_text(word: str) -> str:
    """What a preset's 0 means ("all", "auto": the schema's `zero` word), in the interface's language."""
    words = {
        "all": pgettext("preset value", "all"),
        "auto": pgettext("preset value", "auto"),
        "none": pgettext("preset value", "none"),
        "main process": pgettext("preset value", "main process"),
        "target length": pgettext("preset value", "target length"),
        "train batch": pgettext("preset value", "train batch"),
        "tokenizer's": pgettext("preset value", "tokenizer's"),
    }
    return words.get(word, word)


def percent(share: float | None) -> str:
    """0.42 -> "42%"; small shares keep a digit: 0.004 -> "0.4%"."""
    if share is None:
        return "?"
    pct = share * 100
    if pct == 0:
        return "0%"
    if pct < 1:
        return f"{pct:.1f}%"
    return f"{pct:.0f}%"


def torch_build_text(environment: Environment) -> str:
    """"2.3.1 CPU-only build" says at a glance why a GPU machine runs at CPU speed."""
    version = environment.torch
    if not version:
        return ""
    if environment.torch_cpu_only_build:
        return f"{version} [b red]" + _("CPU-only build") + "[/b red]"
    cuda = environment.torch_cuda_build
    return f"{version} (CUDA {cuda})" if cuda else version


def pad_cells(text: str, width: int) -> str:
    """`text` padded with spaces to `width` terminal cells, never cut: `str.ljust` for text
    whose characters may be two cells wide (Chinese), which `ljust` counts as one."""
    return text + " " * max(0, width - cell_len(text))


def fit_cells(text: str, width: int) -> str:
    """`text` in exactly `width` cells: padded, or cut with an ellipsis (a wide character that
    would straddle the cut becomes a space, never half a character)."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, max(0, width - 1)) + "…"
