"""emosum-tui: a terminal console for fine-tuning mT5 on LongEmotion Emotion Summary."""

__version__ = "0.1.0"
