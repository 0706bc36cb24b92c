"""The doctor: preflight checks, live diagnosis of a run, and advice after a failure."""
