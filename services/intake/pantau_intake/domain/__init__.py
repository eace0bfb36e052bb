"""Intake's rules in plain Python: authentication, authorisation, rate limits, problems."""
