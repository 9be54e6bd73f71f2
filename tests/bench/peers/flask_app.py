"""The receiver on the route of Panora's recipe, in Flask: HMAC-SHA256 of
the data value as a JSON string, compared with hmac.compare_digest, then
json.loads of data and a 200. Served the way Python users deploy it:
gunicorn, sync workers, one per core. A bench peer (make bench), not part
of the product.

    PANORA_WEBHOOK_SECRET=... gunicorn -w 2 -b 127.0.0.1:PORT flask_app:app

ensure_ascii=False: the signed text is JavaScript's JSON.stringify, which
leaves non-ASCII characters as they are; Python's default escapes them,
and every delivery with one would fail.
"""
import hashlib
import hmac
import json
import os

from flask import Flask, request

SECRET = os.environ["PANORA_WEBHOOK_SECRET"].encode()
app = Flask(__name__)


@app.route('/panora_webhooks', methods=['POST'])
def panora_webhooks():
    event = request.get_json()
    signed = json.dumps(event["data"], ensure_ascii=False).encode()
    want = hmac.new(SECRET, signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, request.headers.get("Panora-Signature", "")):
        return "bad signature", 401
    json.loads(event["data"])
    return "ok", 200
