"""tinycnn: a tiny, readable NumPy convolutional-network library with a Keras-shaped API."""

__version__ = "0.1.0"
