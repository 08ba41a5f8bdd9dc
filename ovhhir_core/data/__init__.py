"""Data: the HHIRChat format, the interaction taxonomy, a synthetic generator, the dataset builder.

Import from the submodules: ``ovhhir_core.data.hhirchat`` (schema, load/save),
``ovhhir_core.data.taxonomy`` (categories, soft labels), ``ovhhir_core.data.synthetic`` (drawn
interactions with exact masks), ``ovhhir_core.data.build`` (``build-dataset``).
"""
