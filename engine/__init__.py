"""Topdown's engine: projects, importers, datasets, training, prediction. Never imports Qt.

Heavy modules (torch, torchvision) are imported only by the modules that train or predict,
so opening a project or starting the GUI stays fast.
"""
