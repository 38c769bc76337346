"""The needs diagnostic: a questionnaire whose rules draft a mission the client edits and posts."""
