"""The language the operating system asks for: on Windows the UI language, elsewhere gettext's
environment variables (LANGUAGE, LC_ALL, LC_MESSAGES, LANG, in that order)."""

from __future__ import annotations

import locale
import os
import sys


def system_language() -> str | None:
    """A locale name such as "zh_CN" or "en_US", or None when the system says nothing usable."""
    if sys.platform == "win32":
        name = _windows_ui_language()
        if name:
            return name
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            return value.split(":")[0]  # LANGUAGE is a priority list: the first is what is wanted
    return None


def _windows_ui_language() -> str | None:
    """The Windows display language (a Chinese Windows: 0x0804 -> "zh_CN"), not the region:
    a Chinese user's region may be set elsewhere while the menus they read are Chinese."""
    try:
        import ctypes

        language_id = ctypes.windll.kernel32.GetUserDefaultUILanguage()  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return None
    return locale.windows_locale.get(language_id)
