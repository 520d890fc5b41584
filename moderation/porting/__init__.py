"""Moving comments in and out: Disqus and WordPress imports, a site's JSON export."""
