"""The demo: the seed article, a publisher's page that embeds its thread."""
