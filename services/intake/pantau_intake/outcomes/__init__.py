"""Intake's outcomes process (``python -m pantau_intake.outcomes``): what became of each
department's events (the event status API reads it) and the departments' webhooks."""
