"""The config file: YAML in, a typed :class:`~inbox_followup.config.loader.Config` out, and
the translation of that config into the pure core's inputs."""
