"""Skills from a CV: upload, safe text extraction, référentiel matching, the member's decisions."""
