"""The local console at /console/: the AWS console's catalog, crawler, Athena, job, Hudi and S3 pages.

It calls the endpoint's own APIs only (boto3 clients pointed at the URL the
browser used, signed with the user's key), never the stages, so a page shows
what boto3 sees. Pages are server-rendered with jinja2 as plain HTML forms; the
only script is static/console.js (Ctrl-Enter in the editor, a second's reload
while something runs). htmx was the preferred helper, but no registry package
reachable here ships its htmx.min.js for a non-Django app without a JS build or
a download step in the set-up, and the few lines needed do not warrant one.
"""

from zfish.aws.console.app import CONSOLE_PREFIX, Console

__all__ = ["CONSOLE_PREFIX", "Console"]
