"""`helm test`: asks the installed site, through nginx, the way a browser or a GIS client would.

usage: smoke.py <url> <text the answer must contain>
The request carries the site's Host header (SITE_HOST), since Django only answers its own names.
"""

import os
import sys
import time
import urllib.request

url, expected = sys.argv[1], sys.argv[2]
request = urllib.request.Request(url, headers={"Host": os.environ["SITE_HOST"], "X-Forwarded-Proto": os.environ.get("SITE_SCHEME", "http")})
last = None
for attempt in range(10):
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read().decode("utf-8", "replace")
            if response.status == 200 and expected in body:
                print("ok: {} answered {} with {!r}".format(url, response.status, expected))
                sys.exit(0)
            last = "status {}, {!r} not in the first 300 characters: {!r}".format(response.status, expected, body[:300])
    except Exception as error:  # connection refused, timeout, HTTP error: try again
        last = str(error)
    time.sleep(6)
sys.exit("failed: {}: {}".format(url, last))
