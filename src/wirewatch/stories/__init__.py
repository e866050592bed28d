"""The story stage: one story per real-world event, across outlets and languages."""
