"""Helpers shared by the test modules and the benches (bench/ puts tests/ on sys.path to import them).

- `project`: a private project home (presets/ and data/ copied) and preset files written into it.
- `pilot`: the Pilot's terminal size, waiting on a condition, the training screen on its own.
- `recorded_runs`: run directories written with the real event writer, as a trainer would.
- `pty_console`: `emosum-tui watch` in its own process in a pseudo-terminal.
"""
