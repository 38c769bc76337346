"""Member profiles, the skills référentiel and profile search."""
