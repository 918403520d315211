"""Profile backends: BLOSUM62 fallback, MMseqs2 database + iterative search, shard storage.

Every PSSM leaving this package is L x 20 float32 in BLAST column order
(:data:`protrnn.core.alphabet.AMINO_ACIDS`), in half-bit log-odds units (the unit of NCBI's
BLOSUM62).
"""
