"""OV-HHIR core: video I/O, click-to-track, masking, the multi-branch model, data, training, eval.

This package never imports gradio. Heavy submodules (torch models) are imported where used.
"""

__version__ = "0.1.0"
