"""Profiles (PSSMs) of protein sequences: one service over three stand-alone search backends.

Modules: :mod:`~protrnn.profiles.service` (``profiles_for``: cache -> search -> store -> read,
used by rule profile_search and ``protrnn predict``), :mod:`~protrnn.profiles.backends` (mmseqs2,
psiblast, jackhmmer; none imports another), :mod:`~protrnn.profiles.database` (what every
backend's database shares: sources, checksum, normalised FASTA, hashes, folder),
:mod:`~protrnn.profiles.search` (what every search shares: parameters, BLOSUM62 fallback,
statistics), :mod:`~protrnn.profiles.cache` (content-addressed cache),
:mod:`~protrnn.profiles.store` (profile shards + provenance), :mod:`~protrnn.profiles.blosum`,
:mod:`~protrnn.profiles.extras` (the extra per-position columns).

Every PSSM leaving this package is L x 20 float32 in BLAST column order
(:data:`protrnn.core.alphabet.AMINO_ACIDS`), in half-bit log-odds units (the unit of NCBI's
BLOSUM62), and comes with its L x 23 extra columns (probabilities, information, depth, gap
fraction; :class:`~protrnn.profiles.search.Profiles` ``.extras``). Imports nothing of data, model,
evaluation or report.
"""
