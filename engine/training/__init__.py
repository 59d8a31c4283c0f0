"""Training: `train` (entry points, fastai's fine_tune) builds a run with `setup`, runs its
epochs with `fit`, does the side jobs in `callbacks` and keeps each run apart in `runs`."""
