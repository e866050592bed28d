"""The alert stage: who gets what, and when (policy.py); what silences hold back (silences.py)."""
