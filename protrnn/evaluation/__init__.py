"""Evaluation: per-residue and per-protein metrics, SOV, bootstrap, redundancy."""
