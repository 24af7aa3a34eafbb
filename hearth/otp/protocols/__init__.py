"""The protocol schemas, one TOML file per group of services (the format:
`hearth.otp._schema`), and their generators: ``python -m
hearth.otp.protocols docs`` rewrites the docs' protocol tables,
``python -m hearth.otp.protocols c-header`` writes C request encoders."""
