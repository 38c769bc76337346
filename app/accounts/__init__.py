"""Accounts and sign-in: registration, passwords, tokens, OpenID Connect, roles."""
