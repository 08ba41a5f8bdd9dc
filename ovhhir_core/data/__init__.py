"""Data: the HHIRChat format, the interaction taxonomy, a synthetic generator, the dataset builder.

The format (light imports): ``hhirchat`` (the sample schema, ``load_dataset`` / ``save_dataset`` /
``append_sample``, ``require_samples``), ``validation`` (the rules a sample must meet, the text
cap), ``records`` (reading ``.json`` / ``.jsonl`` records, ``DatasetError``),
``export`` (one tracked clip as an HHIRChat sample), ``taxonomy`` (+ ``taxonomy.json``: categories
across the paper's datasets, soft labels).

Subpackages: ``synthetic`` (drawn interactions with exact label maps) and ``build`` (labelled
videos → an HHIRChat dataset). Nothing heavy is imported here.
"""
