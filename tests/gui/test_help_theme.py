"""Help ▸ Ideas and shortcuts (F1) explains the ideas with the "?" texts and lists the
shortcuts; View ▸ Appearance follows the desktop's colour scheme or a chosen one, kept."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from gui.common.help_texts import HELP
from tests.support.qt import shown_main_window


def test_help_page_has_the_ideas_and_the_shortcuts(qtbot):
    w = shown_main_window(qtbot)
    help_menu = [a.text().replace("&", "") for a in w.menuBar().actions()[-1].menu().actions()]
    assert "Ideas and shortcuts" in help_menu and "About Topdown" in help_menu
    assert w.menus.act_help.shortcut().toString() == "F1"
    w.menus.act_help.trigger()
    text = w.help_dialog.browser.toPlainText()
    for key in ("validation", "loss", "metric", "overfitting", "pretrained", "frozen"):
        title, body = HELP[key]
        assert title in text and body[:60] in text  # the same words as the "?" buttons
    assert "Segmentation" in text
    assert "Ctrl+Z" in text and "Ctrl+W" in text and "Label next" in text


def test_appearance_follows_the_system_or_the_choice_and_is_kept(qtbot):
    from gui import theme

    w = shown_main_window(qtbot)
    app = QApplication.instance()
    assert theme.saved_choice() == "system"  # the default: the desktop decides
    assert w.menus.appearance.actions["system"].isChecked()
    try:
        assert w.menus.appearance.choose("system") == theme.system_scheme()
        assert w.menus.appearance.choose("dark") == "dark"
        window_colour = app.palette().color(QPalette.ColorRole.Window)
        assert window_colour.lightness() < 60  # dark
        assert "#262a30" in app.styleSheet() and "#ffffff" not in app.styleSheet()
        assert theme.saved_choice() == "dark"
        assert w.menus.appearance.choose("light") == "light"
        assert app.palette().color(QPalette.ColorRole.Window).lightness() > 200
    finally:
        w.menus.appearance.choose("system")
