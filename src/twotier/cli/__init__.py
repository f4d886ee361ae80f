"""The ``twotier`` command line."""
