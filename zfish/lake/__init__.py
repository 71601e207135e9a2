"""The local "S3" lake: day partitions, JSON compacted like ``jq -c``, and the upload that fills it."""
