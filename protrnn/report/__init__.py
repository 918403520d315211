"""The HTML comparison report; it reads result files only (never torch, models or profiles).

Modules, in the order data flows: :mod:`~protrnn.report.load` (read result files),
:mod:`~protrnn.report.tables`, :mod:`~protrnn.report.tables_protein`,
:mod:`~protrnn.report.pairwise`, :mod:`~protrnn.report.convergence` and
:mod:`~protrnn.report.summary` (the TSVs, tests, convergence rule and summary sentences),
:mod:`~protrnn.report.tracks` (the proteins drawn along the chain),
:mod:`~protrnn.report.context` (everything the sections read), :mod:`~protrnn.report.figures`
(PNGs), :mod:`~protrnn.report.render`, :mod:`~protrnn.report.render_protein` and
:mod:`~protrnn.report.render_training` (HTML of the tables), :mod:`~protrnn.report.html` (page,
CSS, captions), the sections :mod:`~protrnn.report.sections_summary`,
:mod:`~protrnn.report.sections_residue`, :mod:`~protrnn.report.sections_tracks`,
:mod:`~protrnn.report.sections_protein` and
:mod:`~protrnn.report.sections_run`, and :mod:`~protrnn.report.build` (the page in order).
:mod:`~protrnn.report.provenance` collects the run's provenance for scripts/report.py;
:mod:`~protrnn.report.studies` reads the benchmark studies of ``report.studies`` and
:mod:`~protrnn.report.markdown` renders their text; :mod:`~protrnn.report.common` holds
formatting helpers.
"""
