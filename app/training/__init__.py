"""Training paths: the catalogue, gap analysis toward a mission seat or skills, paths members follow."""
