"""Export a trained model for use outside Topdown: ONNX or TorchScript, a model.json card
beside it, and a parity check against PyTorch at export time. No Qt; torch and the ONNX
packages load only when an export runs."""
