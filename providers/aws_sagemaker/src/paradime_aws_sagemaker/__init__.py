"""Provider package (commands are declared here; see the provider issue)."""
