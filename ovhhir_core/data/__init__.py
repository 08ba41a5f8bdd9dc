"""Data: the HHIRChat format, the interaction taxonomy, a synthetic generator, the dataset builder.

Import from the submodules (nothing heavy is imported here):

- ``hhirchat``: the sample schema, ``load_dataset`` / ``save_dataset`` / ``append_sample``;
- ``export``: one tracked clip (its three streams) as an HHIRChat sample;
- ``taxonomy`` (+ ``taxonomy.json``): categories across the paper's datasets, soft labels;
- ``synthetic`` (+ ``figures``, ``choreography``): drawn interactions with exact label maps;
- ``build`` (+ ``build_inputs``, ``cli``): ``python -m ovhhir_core build-dataset``.
"""
