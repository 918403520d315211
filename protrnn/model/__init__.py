"""Models: the zoo (``zoo``), batching (``batching``), device and precision (``device``), the loss
and validation metrics (``loss``), the input fingerprint (``fingerprint``), checkpoints and
``model.pt`` (``checkpoint``), the train loop (``train``) and inference (``inference``).

Import directions: ``inference`` (what evaluation and prediction use) never imports ``train``.
"""
