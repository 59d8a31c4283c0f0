"""Getting images into a project from the GUI: the import flow (drops and File > Import, run on
the bridge), its input dialogs (CSV, file-name regex, segmentation masks) and its progress and
report dialogs. The flow takes the app state and the bridge, not the window; the window wires
its signals."""
