"""Prediction with a trained model (`predictor.Predictor`), for the CLI and the GUI."""
