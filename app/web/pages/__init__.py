"""One module of page controllers per feature; a feature that lands later adds its own module."""
