"""The console's view of a run: the stall alarm's clock, the event-log tail, resource sampling.

Torch-free: the console imports this package.
"""
