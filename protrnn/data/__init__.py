"""Datasets: downloads, the canonical table, and one parser module per input format.

``download`` (fetch, verify, clean up), ``table`` (the canonical table), ``fields`` (checks the
parsers share), ``formats/`` (one module per format, plus the plain ``options`` and ``pdb_ids``
tables) and ``registry`` (format name -> parser, ``load_dataset``).
"""
