"""The web core: sessions, CSRF, authorisation, headers, errors, OpenAPI."""
