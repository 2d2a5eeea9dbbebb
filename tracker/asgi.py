"""
The ASGI application, for servers that speak ASGI (the product is served by gunicorn through
tracker.wsgi; see the README). Like tracker.wsgi, loading it marks the process as a web
server, whose PostgreSQL connections stop any query that runs longer than
DATABASE_WEB_STATEMENT_TIMEOUT (tracker.settings).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ["TRACKER_WEB_PROCESS"] = "1"

application = get_asgi_application()
