"""The Glue side: the catalog store, the crawler, JSON type inference, and Athena-style queries."""
