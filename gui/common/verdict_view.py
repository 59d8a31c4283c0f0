"""How good the model is, in plain words (engine.training.verdict): the headline against the
obvious baseline, what the metric means, warnings, and what to try next. Shown on the Train
page after a run and on the Evaluate page for the model in use."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QLabel, QWidget

LEVEL_COLORS = {
    "no better than guessing": "#b00020",
    "weak": "#b00020",
    "fair": "#8a5a00",
    "good": "#1b5e20",
}


def verdict_html(v) -> str:
    """The verdict as rich text: a coloured headline, then the rest in plain lines."""
    color = LEVEL_COLORS.get(v.level, "")
    style = f" style='color:{color}'" if color else ""
    parts = [f"<b{style}>{html.escape(v.headline)}</b>"]
    parts += [html.escape(line) for line in v.extra]
    parts += [f"<span style='color:#b00020'>⚠ {html.escape(w)}</span>" for w in v.warnings]
    if v.next_steps:
        parts.append("<b>Next:</b> " + " ".join(html.escape(s) for s in v.next_steps))
    return "<br>".join(parts)


class VerdictView(QLabel):
    """The verdict box; hidden while there is none."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("verdict")
        self.setWordWrap(True)
        self.setStyleSheet(
            "QLabel#verdict{border:1px solid palette(mid);border-radius:4px;padding:6px;}"
        )
        self.verdict = None
        self.setVisible(False)

    def show_verdict(self, v) -> None:
        """Show `v` (an engine.training.verdict.Verdict), or nothing for None."""
        self.verdict = v
        self.setText(verdict_html(v) if v is not None else "")
        self.setVisible(v is not None)
