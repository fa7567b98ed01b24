"""The web reading room: an ASGI app (Starlette, Jinja2 templates, vendored htmx) over the Desk.

``create_app(settings)`` in ``web.app`` builds it; route modules (pages, management, outgoing
feeds, and the APIs in ``web.api``) each expose ``routes(ctx)``.
"""
