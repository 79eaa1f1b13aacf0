"""Sentence encoders (ONNX int8, ONNX float, torch) and the offline set-up that loads them."""
