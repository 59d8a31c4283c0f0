"""Training: `train` (the entry points) hands a run to `fit.Loop` (resume, learning rate,
phases, epochs, batches), which builds it with `setup`, continues an unfinished one with
`resume`, asks its `strategy` (one process, or DDP under torchrun) wherever processes must
agree, and does the side jobs in `callbacks`; `runs` keeps each run apart."""
