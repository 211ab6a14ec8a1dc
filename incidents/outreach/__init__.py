"""What an incident pages and pushes, to whom, in which words; what the engine says back."""
