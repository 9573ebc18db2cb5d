"""The request edge: what happens to a request before it reaches a route (request id,
principal, rate limit, body limit, error envelope), as one ASGI layer plus the HTTP protocol
classes that answer requests too malformed to reach it."""
