"""The edges: Slack, Teams, the console and the CLI. Each converts, then calls the core."""
