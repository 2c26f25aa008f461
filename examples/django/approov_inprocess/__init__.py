"""The in-process alternative to approov-gateway: tokens checked inside
Django with PyJWT, as the reference integration does. Kept as a behavioural
reference and a benchmark baseline."""
