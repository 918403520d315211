"""Released models: the best model of each experiment of a finished workflow run, with its card.

``python -m protrnn.release --run RUN_DIR --out models/`` (:mod:`protrnn.release.__main__`)
writes, per experiment, ``models/{experiment}/model.pt`` (a byte copy of the chosen
``RUN_DIR/results/models/{experiment}/{model}/model.pt``), ``MODEL_CARD.md`` and ``card.json``.
The model is chosen by its recorded validation score (``valid_q8`` per residue,
``valid_accuracy`` per protein), never by a test score (:mod:`protrnn.release.run`); the card
holds the training data, features, profile database, preset, commands, the test accuracies from
the run's report tables, the data licences and, for the secondary-structure model, the scores
of a CB513 check subset predicted through ``protrnn predict`` (:mod:`protrnn.release.check`).
Nothing imports this package (it is an entry point, like :mod:`protrnn.cli`).
"""
