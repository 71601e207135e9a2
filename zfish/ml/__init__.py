"""The ML end of the pipeline: image features, training frames, models, exploration, plots, notebooks."""
