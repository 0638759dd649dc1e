"""Per user: the session (one browser's state) and the actions over it, one module per screen."""
