"""Light and dark: the app follows the desktop's colour scheme (Qt 6's
QStyleHints.colorScheme) unless the user chose one (View ▸ Appearance, kept in the settings).
The dark look is the light style sheet with its colours swapped for dark ones, and a dark
palette for Fusion."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

CHOICES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
SETTING = "appearance"

LIGHT = {
    QPalette.ColorRole.Window: "#f5f6f8",
    QPalette.ColorRole.WindowText: "#1f2328",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f0f2f5",
    QPalette.ColorRole.Text: "#1f2328",
    QPalette.ColorRole.Button: "#ffffff",
    QPalette.ColorRole.ButtonText: "#1f2328",
    QPalette.ColorRole.Highlight: "#2f6fde",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: "#ffffff",
    QPalette.ColorRole.ToolTipText: "#1f2328",
    QPalette.ColorRole.PlaceholderText: "#8a929c",
    QPalette.ColorRole.Link: "#2f6fde",
    QPalette.ColorRole.Mid: "#cfd4da",
}
DARK = {
    QPalette.ColorRole.Window: "#1e2126",
    QPalette.ColorRole.WindowText: "#e6e8eb",
    QPalette.ColorRole.Base: "#262a30",
    QPalette.ColorRole.AlternateBase: "#2c3037",
    QPalette.ColorRole.Text: "#e6e8eb",
    QPalette.ColorRole.Button: "#2c3037",
    QPalette.ColorRole.ButtonText: "#e6e8eb",
    QPalette.ColorRole.Highlight: "#4c8dff",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: "#2c3037",
    QPalette.ColorRole.ToolTipText: "#e6e8eb",
    QPalette.ColorRole.PlaceholderText: "#8a929c",
    QPalette.ColorRole.Link: "#7aa7ff",
    QPalette.ColorRole.Mid: "#4a505a",
}
DISABLED = {"light": "#a0a6ad", "dark": "#6a717b"}
# the light style sheet's colours -> their dark counterparts
SHEET_DARK = {
    "#ffffff": "#262a30", "#f5f6f8": "#1e2126", "#1f2328": "#e6e8eb", "#e1e4e8": "#3a3f47",
    "#e8effc": "#2d3b55", "#cfd4da": "#4a505a", "#4b535c": "#b8bec6", "#a9c1ee": "#3d5a8f",
    "#a0a6ad": "#6a717b", "#f7faff": "#29303b", "#f0f5ff": "#2a3344", "#f0f2f5": "#2c3037",
    "#dde1e6": "#3a3f47", "#d6dae0": "#4a505a", "#8a929c": "#8a929c", "#6a737d": "#9aa1aa",
    "#5a636e": "#a7adb5", "#2f6fde": "#4c8dff", "#2a63c7": "#3b7bec",
}  # fmt: skip


def system_scheme() -> str:
    """ "dark" or "light", as the desktop says ("light" when it says nothing)."""
    app = QGuiApplication.instance()
    if app is None:
        return "light"
    scheme = app.styleHints().colorScheme()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def resolve(choice: str) -> str:
    return choice if choice in ("light", "dark") else system_scheme()


def palette(scheme: str) -> QPalette:
    pal = QPalette()
    for role, value in (DARK if scheme == "dark" else LIGHT).items():
        pal.setColor(role, QColor(value))
    grey = QColor(DISABLED[scheme])
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, grey)
    return pal


def style_sheet(light_sheet: str, scheme: str) -> str:
    if scheme != "dark":
        return light_sheet
    out = light_sheet
    for light, dark in SHEET_DARK.items():
        out = out.replace(light, dark).replace(light.upper(), dark)
    return out


def saved_choice() -> str:
    from gui.common import settings

    value = str(settings.settings().value(SETTING, "system"))
    return value if value in CHOICES else "system"


def save_choice(choice: str) -> None:
    from gui.common import settings

    settings.settings().setValue(SETTING, choice)


# painted (not style-sheet) colours of the light look -> dark counterparts
PAINT_DARK = {
    "#ffffff": "#2c3037", "#dbeafe": "#2d3b55", "#c3c9d1": "#4a505a", "#f4f5f7": "#33383f",
    "#5f6b7a": "#aab2bc", "#7a8491": "#8f98a3", "#1f2933": "#e6e8eb", "#d9dde3": "#444a53",
    "#aab3bf": "#59606a", "#eef0f3": "#33383f", "#fdecec": "#4a2a2a",
}  # fmt: skip


def paint_color(light: str):
    """A colour a delegate paints with, for the scheme now applied."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    dark = app is not None and app.property("topdown_scheme") == "dark"
    return QColor(PAINT_DARK.get(light, light) if dark else light)


STYLE_FILE = Path(__file__).resolve().parent / "style.qss"


def apply(app, choice: str | None = None) -> str:
    """Fusion with the app style sheet, light or dark: `choice` ("system", "light", "dark";
    default: the saved one) — "system" follows the desktop. Returns the scheme applied."""
    from PySide6.QtGui import QFont

    app.setStyle("Fusion")
    scheme = resolve(choice or saved_choice())
    app.setPalette(palette(scheme))
    font = app.font()
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    app.setFont(font)
    if STYLE_FILE.is_file():
        app.setStyleSheet(style_sheet(STYLE_FILE.read_text(encoding="utf-8"), scheme))
    app.setProperty("topdown_scheme", scheme)
    return scheme
