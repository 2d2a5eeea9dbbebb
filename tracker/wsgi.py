"""
The WSGI application that production servers load (gunicorn tracker.wsgi; see the README).

Loading it marks the process as a web server: its PostgreSQL connections then stop any query
that runs longer than DATABASE_WEB_STATEMENT_TIMEOUT (tracker.settings).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ["TRACKER_WEB_PROCESS"] = "1"

application = get_wsgi_application()
