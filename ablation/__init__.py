"""Siamese head ablation: why Subtract + a single sigmoid Dense fails, measured."""

__version__ = "0.1.0"
