"""Plain-language explanations of the ideas behind training, for tooltips and "?" buttons.

Written for someone who has never trained a model: short, concrete, no jargon left unexplained.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QToolButton, QWidget

HELP: dict[str, tuple[str, str]] = {
    "loss": (
        "Loss",
        "A number that says how wrong the model's guesses are — lower is better. Training "
        "nudges the model, batch after batch, to make this number smaller.",
    ),
    "metric": (
        "Metric",
        "A score people can read, measured on the validation images: for example accuracy "
        "(share of images guessed right) or error rate. It is what you care about; the loss "
        "is what the computer minimises.",
    ),
    "validation": (
        "Validation set",
        "Images held back from training (about one in five). The model never learns from "
        "them, so its results on them show how it will do on images it has never seen.",
    ),
    "test": (
        "Test set",
        "An optional second set of held-back images that you look at only once, at the end, "
        "to get an honest final score after all your choices were made on the validation set.",
    ),
    "overfitting": (
        "Overfitting",
        "When the model starts to memorise the training images instead of learning what "
        "they have in common. You see it when the training loss keeps falling but the "
        "validation loss rises. Remedies: more images, more augmentation, fewer epochs. "
        "Topdown always keeps the best model seen so far.",
    ),
    "frozen": (
        "Frozen and unfrozen epochs (transfer learning)",
        "A pretrained network already knows how to see edges, textures and shapes. First only "
        "its last layer (the 'head') learns your classes while the rest stays frozen; then the "
        "whole network is unfrozen and gently fine-tuned on your images. The frozen epochs are "
        "part of the total ('5 epochs, of which 1 frozen' trains 5). Training from scratch "
        "freezes nothing: there is nothing learned yet to protect.",
    ),
    "lr": (
        "Learning rate",
        "How big a step the model takes each time it corrects itself. Too small: learning "
        "is slow. Too large: the loss jumps around or explodes. 0.002 works well for most "
        "projects; press Find to try rates on your images and see the curve, or type 'auto' "
        "to use the finder's suggestion.",
    ),
    "lr_finder": (
        "Learning-rate finder",
        "Trains for a few dozen batches (about 20 seconds at most) while raising the learning "
        "rate step by step, and plots the (smoothed) loss. The suggestion (the red line) is the "
        "rate where that curve is lowest, just before the loss shoots up. The result is kept "
        "for these settings, so pressing Find again is instant.",
    ),
    "epochs": (
        "Epochs",
        "One epoch is one pass over every training image. More epochs give the model more "
        "practice, but too many can lead to overfitting. This is the total: frozen epochs "
        "count as part of it.",
    ),
    "batch_size": (
        "Batch size",
        "How many images the model looks at before each correction. Larger batches use more "
        "memory; smaller ones fit on small machines. 32 is a good start; lower it if you run "
        "out of memory.",
    ),
    "image_size": (
        "Image size",
        "Images are resized to this many pixels before training. Larger sizes can see finer "
        "detail but train slower (four times slower when the size doubles).",
    ),
    "pretrained": (
        "Pretrained weights",
        "Start from a network that has already learned from over a million photos "
        "(ImageNet), instead of from random numbers. It learns your task far faster and with "
        "far fewer images. The weights are downloaded once and kept on this computer.",
    ),
    "augmentation": (
        "Data augmentation",
        "Small random changes to each training image every time it is shown — flips, "
        "rotations, crops, colour shifts — so the model sees more variety and memorises less. "
        "Only training images are changed; validation images are used as they are.",
    ),
    "device": (
        "Device",
        "Where the computing happens. A graphics card (GPU) trains ten to fifty times faster "
        "than the processor (CPU); on a CPU, keep images small and models light.",
    ),
    "confusion": (
        "Confusion matrix",
        "Rows are the true classes, columns what the model guessed. The diagonal holds the "
        "right answers; every other cell counts one kind of mistake. Click a cell to see "
        "those images.",
    ),
    "top_losses": (
        "Top losses",
        "The validation images the model got most wrong, or right with the least confidence, "
        "first. Often they reveal wrongly labelled images: fix the label with keys 1-9.",
    ),
    "top_losses_plain": (  # masks and numbers: no number keys to relabel with
        "Top losses",
        "The validation images the model got most wrong first. Often they reveal images whose "
        "label or mask is wrong.",
    ),
    "iou": (
        "IoU (intersection over union)",
        "For each class: the overlap between the predicted and the true area, divided by "
        "their union. 1 is a perfect outline, 0 means no overlap.",
    ),
    "f1": (
        "F1 score",
        "Balances how many of the model's 'yes' answers were right (precision) and how many "
        "of the real 'yes' cases it found (recall). 1 is perfect.",
    ),
}


def tip(key: str) -> str:
    """Tooltip text (rich text, so Qt wraps long lines) for a help key."""
    title, body = HELP[key]
    return f"<b>{title}</b><br>{body}"


def help_button(key: str, parent: QWidget | None = None) -> QToolButton:
    """A small "?" button that shows the explanation in a message box (and as tooltip)."""
    button = QToolButton(parent)
    button.setText("?")
    button.setAutoRaise(True)
    button.setToolTip(tip(key))
    button.setAccessibleName(f"Explain: {HELP[key][0]}")
    title, body = HELP[key]
    button.clicked.connect(lambda: QMessageBox.information(button.window(), title, body))
    return button
