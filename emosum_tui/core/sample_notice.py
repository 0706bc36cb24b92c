"""Say so when a preset reads the bundled sample because the workspace has no data of its own.

A built-in preset's data paths fall back to the sample in the package (that is what lets `demo`
train from an empty folder); for any other plan the user needs to know their files are expected
elsewhere, or they would estimate and train on a few hundred sample rows unawares.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from emosum_tui.builtin import BUILTIN_ROOT, SAMPLE_DATA
from emosum_tui.core.paths import workspace
from emosum_tui.core.presets import Preset
from emosum_tui.i18n import gettext as _


def sample_files(preset: Preset) -> list[Path]:
    """The preset's data files that are the bundled sample's."""
    return [path for path in (preset.train_file, preset.validation_file) if path.is_relative_to(SAMPLE_DATA)]


def sample_notice(presets: Iterable[Preset]) -> str | None:
    """One message naming the presets that read the sample and where the user's files go, in the
    interface's language; None when every preset reads the workspace's own files."""
    readers = [preset for preset in presets if sample_files(preset)]
    if not readers:
        return None
    expected = sorted({(workspace() / path.relative_to(BUILTIN_ROOT)).as_posix() for p in readers for path in sample_files(p)})
    names = ", ".join(preset.name for preset in readers)
    if len(expected) == 1:
        return _("{names}: reading the bundled sample (a few hundred rows), since the workspace has no {file}. Put your data "
                 "there (`emosum-tui init` writes the layout); the sample is meant for the offline demo: "
                 "emosum-tui --preset demo --start").format(names=names, file=expected[0])
    return _("{names}: reading the bundled sample (a few hundred rows), since the workspace has no {first} nor {second}. Put "
             "your data there (`emosum-tui init` writes the layout); the sample is meant for the offline demo: "
             "emosum-tui --preset demo --start").format(names=names, first=expected[0], second=" nor ".join(expected[1:]))


def print_sample_notice(presets: Iterable[Preset]) -> None:
    """The notice on stderr (results stay alone on stdout), when there is one."""
    notice = sample_notice(presets)
    if notice:
        print(_("note: {message}").format(message=notice), file=sys.stderr)
