"""Topdown's Qt user interface. Engine work runs only through gui.bridge.EngineBridge."""
