"""`make bench`: the bridge against the servers people would otherwise use, under wrk on one core.

Must stay importable from the bench virtualenv too (Django's project lives here): no project imports.
"""
