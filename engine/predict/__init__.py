"""engine.predict.predictor."""
