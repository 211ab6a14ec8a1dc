"""From an HTTP body to a report row: every sender's payload read, recorded, doorbell rung."""
