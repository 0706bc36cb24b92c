"""Generation with a trained model (torch): the worker subprocess the console, `generate`,
`evaluate` and `try` talk to in JSON Lines. Nothing here is imported by the console process;
its side of the protocol is `emosum_tui.core.generation_client`.
"""
