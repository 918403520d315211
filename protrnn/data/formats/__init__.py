"""Input formats, one module each, parsed to the canonical dataset table.

``netsurfp`` (netsurfp_csv, with FLIP splits), ``dcrnn`` (dcrnn_cb513_csv), ``text`` (three_line,
tsv), ``pdb_chains`` (pdb_chains, via DSSP) and ``deeploc`` (deeploc2_csv, deeploc1_fasta). Two
modules are shared tables, importable without pandas: ``options`` (what each format takes) and
``pdb_ids`` (PDB chain ids and download templates). No format module imports another; the
registry that maps names to parsers is :mod:`protrnn.data.registry`. This package imports none
of its modules, so importing ``options`` or ``pdb_ids`` stays light.
"""
