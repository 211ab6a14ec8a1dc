"""The worker's side: drain waiting reports, count occurrences by one rule, open incidents."""
