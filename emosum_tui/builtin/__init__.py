"""What ships inside the package, laid out like a workspace: `presets/` (the built-in presets)
and `data/` (the bundled sample of LongEmotion Emotion Summary rows).

A workspace's own files come first; these are what a preset falls back to, so the offline `demo`
trains from an empty folder with nothing but the installed package.
"""

from __future__ import annotations

from pathlib import Path

BUILTIN_ROOT = Path(__file__).resolve().parent
BUILTIN_PRESETS = BUILTIN_ROOT / "presets"
SAMPLE_DATA = BUILTIN_ROOT / "data"
