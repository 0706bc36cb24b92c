"""What ships inside the package, laid out like a workspace: `presets/` (the built-in presets)
and `data/` (the bundled sample of LongEmotion Emotion Summary rows).

A workspace's own files come first; these are what a preset falls back to, so the offline `demo`
trains from an empty folder with nothing but the installed package.
"""

from __future__ import annotations

from pathlib import Path

from emosum_tui.i18n import N_

BUILTIN_ROOT = Path(__file__).resolve().parent
BUILTIN_PRESETS = BUILTIN_ROOT / "presets"
SAMPLE_DATA = BUILTIN_ROOT / "data"

# The built-in presets' descriptions (presets/*.toml), marked so the catalog holds them: screens
# and commands draw a description through `_()`, so these read translated and a user's own as written.
BUILTIN_DESCRIPTIONS = (
    N_("First plan: mt5-base, all rows, 5 epochs, 1024/512 tokens, generate-eval"),
    N_("Optimised full plan: mt5-base, 80% of rows, 3 epochs, batch 2 x 4"),
    N_("Fast plan: mt5-small, 5,000 rows, 1 epoch, batch 4 x 2, 128/128 tokens"),
    N_("Offline demo: tiny config-built mT5 on the bundled sample, ~1 minute on a CPU"),
    N_("Lean plan: mt5-small, every row, 256/512 tokens (cuts none), vocabulary trimmed to the data"),
)
