"""The OV-HHIR Gradio demo: layout (ui), handlers, per-user state, settings. No model code here."""
