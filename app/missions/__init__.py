"""Missions: posting, lifecycle, applications, staffing, questions, reviews, search and matching."""
