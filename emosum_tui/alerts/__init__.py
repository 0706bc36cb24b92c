"""Alerts that reach a user who is away: the terminal bell, a desktop notification, a webhook.

The step clock and the live rules decide what happened (stalled, frozen, dead, failed, NaN,
finished); `alert.AlertTracker` turns their readings into one `Alert` per new state, and
`notifier.Notifier` sends it down every channel the user has. No channel can stop the console or
the run: sending is best effort, the webhook retries on a thread of its own. Torch-free.
"""
