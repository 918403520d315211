"""The format registry: each dataset format's parser, and :func:`load_dataset` that dispatches.

What a format accepts (task, options, fold option) is plain data in
:mod:`protrnn.data.formats.options`; this module adds the parser of each (one module per format
in :mod:`protrnn.data.formats`) and is the only place that imports them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from protrnn.data.formats import dcrnn, deeploc, netsurfp, pdb_chains, text
from protrnn.data.formats.options import check_options

#: A format's parser: (files by role, options) -> canonical table.
Loader = Callable[[Mapping[str, Path], Mapping[str, Any]], pd.DataFrame]

LOADERS: dict[str, Loader] = {
    "netsurfp_csv": netsurfp.load,
    "dcrnn_cb513_csv": dcrnn.load,
    "three_line": text.load_three_line,
    "tsv": text.load_tsv,
    "pdb_chains": pdb_chains.load,
    "deeploc2_csv": deeploc.load_deeploc2,
    "deeploc1_fasta": deeploc.load_deeploc1,
}


def load_dataset(fmt: str, files: Mapping[str, Path], options: Mapping[str, Any]) -> pd.DataFrame:
    """Parse a dataset declared with format ``fmt`` into the canonical table.

    ``files``: role -> path. netsurfp_csv, dcrnn_cb513_csv, three_line and tsv read one file
    (key ``data``, or the only key; netsurfp_csv optionally also ``flip_splits``, FLIP's
    splits.zip); pdb_chains one mmCIF file per PDB entry, keyed by the PDB id (see
    :func:`protrnn.data.formats.pdb_chains.cif_files_by_pdb`); deeploc2_csv ``partition1`` ..
    ``partition5``, deeploc1_fasta ``data``, both optionally ``exclude*`` files.
    ``options`` (:data:`protrnn.data.formats.options.FORMAT_OPTIONS`): netsurfp_csv takes
    ``member``, ``prefix`` (default: the file stem), ``split``; dcrnn_cb513_csv takes ``prefix``
    and ``split``; three_line takes ``split`` and ``labels`` (ss8 | ss3 | auto); tsv takes
    ``split``; pdb_chains takes ``chains`` (list of PDB chain ids) and ``split``; the DeepLoc
    formats are described in :mod:`protrnn.data.formats.deeploc`. Formats whose ids come from the
    data ignore ``prefix``.
    """
    check_options(fmt, options)
    return LOADERS[fmt](files, options)
