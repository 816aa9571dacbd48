"""hmvlm-bench: benchmark and evaluation suite for motion-vision-language models."""
__version__ = "0.1.0"
