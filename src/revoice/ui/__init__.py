"""The web page (Gradio): a thin door onto the pipeline."""
