"""The GUI shell starts offscreen and shows the wizard's steps."""

from canns_gui.app import STEPS, build_window


def test_main_window_lists_the_wizard_steps(qtbot):
    window = build_window()
    qtbot.addWidget(window)
    window.show()
    assert "canns-gui" in window.windowTitle()
    assert not window.grab().isNull()
    assert STEPS[0] == "Import"
