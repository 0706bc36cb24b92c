"""Measurement subprocesses (torch side): each module runs as `python -m emosum_tui.probe.<name>`."""
