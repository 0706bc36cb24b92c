"""A desktop notification where the OS has one: notify-send (Linux), osascript (macOS), a tray
balloon through PowerShell (Windows). Best effort: a missing tool is a reason, never an error.

Title and body travel as arguments or environment variables, never spliced into a script, so
a run name cannot break the quoting. The command runs on a daemon thread: the caller never waits.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import threading

NOTIFY_TIMEOUT = 20.0  # seconds a notifier command may take (the Windows balloon waits while it shows)
WINDOWS_BALLOON = (
    "Add-Type -AssemblyName System.Windows.Forms; Add-Type -AssemblyName System.Drawing; "
    "$n = New-Object System.Windows.Forms.NotifyIcon; $n.Icon = [System.Drawing.SystemIcons]::Information; "
    "$n.Visible = $true; $n.ShowBalloonTip(10000, $env:EMOSUM_ALERT_TITLE, $env:EMOSUM_ALERT_BODY, 'Info'); "
    "Start-Sleep -Seconds 10; $n.Dispose()"
)


def notifier_command(title: str, body: str) -> tuple[list[str], dict[str, str]] | str:
    """The command (and extra environment) that shows a notification here, or why there is none."""
    system = platform.system()
    if system == "Linux":
        exe = shutil.which("notify-send")
        if exe is None:
            return "no notify-send on PATH (libnotify-bin)"
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return "no desktop session (DISPLAY and WAYLAND_DISPLAY unset)"
        return [exe, "--app-name=emosum-tui", title, body], {}
    if system == "Darwin":
        script = ["-e", "on run argv", "-e", "display notification (item 2 of argv) with title (item 1 of argv)", "-e", "end run"]
        return ["osascript", *script, title, body], {}
    if system == "Windows":
        exe = shutil.which("powershell") or shutil.which("pwsh")
        if exe is None:
            return "no PowerShell on PATH"
        return [exe, "-NoProfile", "-NonInteractive", "-Command", WINDOWS_BALLOON], {"EMOSUM_ALERT_TITLE": title, "EMOSUM_ALERT_BODY": body}
    return f"no desktop notifications on {system or 'this OS'}"


def notify_desktop(title: str, body: str) -> str:
    """Show a notification without waiting for it; returns "" when one was started, else why not."""
    found = notifier_command(title, body)
    if isinstance(found, str):
        return found
    argv, extra_env = found

    def show() -> None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):  # a failing notifier says no more than an absent one
            subprocess.run(argv, env={**os.environ, **extra_env}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=NOTIFY_TIMEOUT, check=False)

    threading.Thread(target=show, name="desktop-notify", daemon=True).start()
    return ""
