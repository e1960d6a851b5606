"""Evaluation: run candidates against benchmark tests in a sandbox and label them."""
