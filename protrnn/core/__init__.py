"""Shared building blocks of every stage: alphabets, atomic files, FASTA, logging."""
