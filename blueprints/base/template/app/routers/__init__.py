"""HTTP routes, one router per concept."""
