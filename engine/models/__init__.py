"""Networks: `registry` (architectures, `build_model`, `weights_status`), `weights` (pretrained
weight files), `checkpoint` (the Topdown model file), `unet`."""
