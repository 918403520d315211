"""Datasets: downloads, the canonical table, and one parser module per input format."""
