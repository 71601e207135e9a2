"""The AWS floor: ``zfish serve`` puts S3, STS (and later Glue and Athena) on one endpoint.

It sits above every pipeline stage and only calls their public API; no stage
imports it (``tests/test_layout.py`` enforces this). Wire protocols come from
moto's protocol layer, which is driven by botocore's service models, so the
shapes clients see are the ones their SDKs were generated from.
"""
