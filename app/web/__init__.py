"""The server-rendered web client: HTML pages over the features' services, served at `/`.

It owns the cookie session, CSRF, locale and templates of the browser client. It never calls the
HTTP API, never runs SQL of its own and holds no business rules: every decision is the services'.
"""
