"""The supervisors' web interface and JSON API (aiohttp), in the same process as the FastAGI server.

`server.create_web_app` builds it; `routes.py` is the one route table; `middleware.py` enforces it.
"""
