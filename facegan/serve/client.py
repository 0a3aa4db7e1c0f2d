"""What the page does, without a browser: upload a photo and follow its job. For bench/serve.py and the soak test,
which load the server with many clients; each may come from its own loopback address (127.0.0.N), so that the
server tells them apart as it tells apart visitors."""
import http.client
import json
import os
import time
import urllib.parse


def connection(address, client=1, timeout=120):
    """An HTTP connection to `address` (http://host:port) from 127.0.0.`client`."""
    where = urllib.parse.urlsplit(address)
    return http.client.HTTPConnection(where.hostname, where.port, timeout=timeout,
                                      source_address=(f"127.0.0.{client}", 0))


def multipart(name, data, from_age=None):
    """(body, content type) of the page's upload form."""
    boundary = os.urandom(12).hex()
    parts = [(f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="{name}"\r\n'
              "Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"]
    if from_age is not None:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="from_age"\r\n\r\n{from_age}\r\n'.encode())
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def call(address, method, path, body=None, headers=None, client=1):
    """(status, JSON body, headers: an email.message.Message, read without regard to case) of one request."""
    link = connection(address, client)
    try:
        link.request(method, path, body=body, headers=headers or {})
        response = link.getresponse()
        return response.status, json.loads(response.read() or b"null"), response.headers
    finally:
        link.close()


def age(address, name, data, client=1, poll=0.3, from_age=None):
    """Uploads a photo and follows its job to the end: ("done", result), ("error", message), ("busy", message,
    Retry-After), or ("refused", status, message) for any other answer to the upload."""
    body, kind = multipart(name, data, from_age)
    status, answer, headers = call(address, "POST", "/api/age", body, {"Content-Type": kind}, client)
    if status in (429, 503):
        return "busy", answer["error"], int(headers["Retry-After"])
    if status != 200:
        return "refused", status, answer["error"]
    while True:
        status, state, _headers = call(address, "GET", f"/api/jobs/{answer['job']}", client=client)
        if status != 200:
            return "lost", status, state
        if state["state"] == "done":
            return "done", state["result"]
        if state["state"] == "error":
            return "error", state["message"]
        time.sleep(poll)
