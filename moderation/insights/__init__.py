"""Moderator insights: the shift dashboard and threshold calibration."""
