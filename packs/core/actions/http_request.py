#!/usr/bin/env python3
"""Sends an HTTP request. Parameters arrive as JSON on standard input; the
result is written as JSON to standard output."""
import json
import sys
import urllib.request


def main() -> None:
    params = json.load(sys.stdin)
    body = params.get("body")
    request = urllib.request.Request(
        params["url"],
        data=body.encode() if body is not None else None,
        headers=params.get("headers") or {},
        method=params.get("method", "GET"),
    )
    with urllib.request.urlopen(request) as response:
        json.dump(
            {
                "status_code": response.status,
                "headers": dict(response.headers),
                "body": response.read().decode(errors="replace"),
            },
            sys.stdout,
        )


if __name__ == "__main__":
    main()
