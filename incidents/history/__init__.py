"""The incident's timeline and its texts, rendered in the reader's language."""
