"""Audience quality: who among an account's followers talks with it, who never
does, and who looks automated or fake (``bot_model``), with the accuracy
measured (``models/bot_accuracy.json``, docs/audience.md)."""
