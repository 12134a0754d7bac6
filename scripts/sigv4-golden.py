"""Golden vectors for roomstream's SigV4 signer (Tests/RoomstreamStreamsTests/SigV4Tests.swift),
computed by botocore, the AWS SDK for Python, independently of our code:
  python3 scripts/sigv4-golden.py > Tests/RoomstreamStreamsTests/Fixtures/sigv4-golden.json
Each case: an S3 request as boto3 would build it (the object key percent-encoded by botocore's
own `percent_encode(key, safe='/~')`, as its S3 serializer does; query parameters likewise),
signed by `S3SigV4Auth` at a fixed time. The expected URL path, canonical request, string to
sign and signature are botocore's. Run once; commit the output with this script."""
import base64
import datetime
import hashlib
import json
import sys
from unittest import mock

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
WHEN = datetime.datetime(2022, 9, 4, 13, 5, 9, tzinfo=datetime.timezone.utc)

CASES = [
    # name, method, scheme, host, bucket in path?, bucket, key, query, headers, body
    ("put-hive-key-path-style", "PUT", "http", "127.0.0.1:9000", True, "roomstream-test",
     "tests/dt=2022-09-04/hourly_20220904T0000Z_20220904T0100Z.json", [],
     {"Content-Type": "application/json"}, b'[\n{"room_id":"r1"}\n]\n'),
    ("put-awkward-key-virtual-hosted", "PUT", "https", "roomstream-test.s3.eu-west-1.amazonaws.com", False, "roomstream-test",
     "exports/a=1:b+c d%e/r\u00e9union-\u65e5\u672c~_.json.gz", [],
     {"Content-Type": "application/json", "Content-Encoding": "gzip"}, b"\x1f\x8b\x08\x00binary"),
    ("create-multipart", "POST", "http", "localhost:9000", True, "roomstream-test",
     "p/dt=2022-09-04/daily_20220904T0000Z_20220905T0000Z.json", [("uploads", "")],
     {"Content-Type": "application/json"}, b""),
    ("upload-part", "PUT", "http", "roomstream-test.localhost:9000", False, "roomstream-test",
     "dt=2022-09-04/x.json", [("uploadId", "2~abc/DEF+ghi=="), ("partNumber", "12")],
     {"Content-Type": "application/octet-stream"}, b"part bytes " * 100),
    ("get-object", "GET", "https", "s3.us-east-1.amazonaws.com", True, "my.bucket",
     "a b/\u00fcber.json", [], {}, b""),
    ("abort-multipart", "DELETE", "http", "127.0.0.1:9000", True, "roomstream-test",
     "k=v/obj.json", [("uploadId", "VXBsb2FkIElE=")], {}, b""),
]

class Recording(botocore.auth.S3SigV4Auth):
    """botocore's S3 signer, keeping what add_auth computed along the way."""
    def canonical_request(self, request):
        self.canonical = super().canonical_request(request)
        return self.canonical

    def string_to_sign(self, request, canonical_request):
        self.string = super().string_to_sign(request, canonical_request)
        return self.string

    def signature(self, string_to_sign, request):
        self.signed = super().signature(string_to_sign, request)
        return self.signed


def main():
    out = {"access_key_id": ACCESS_KEY, "secret_access_key": SECRET, "region": "eu-west-1", "service": "s3",
           "time": WHEN.strftime("%Y%m%dT%H%M%SZ"), "epoch_seconds": int(WHEN.timestamp()),
           "botocore": botocore.__version__, "cases": []}
    credentials = Credentials(ACCESS_KEY, SECRET)
    for name, method, scheme, host, path_style, bucket, key, query, headers, body in CASES:
        path = ("/" + percent_encode(bucket, safe="/~") if path_style else "") + "/" + percent_encode(key, safe="/~")
        query_string = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in query)
        url = f"{scheme}://{host}{path}" + (f"?{query_string}" if query else "")
        all_headers = dict(headers)
        if body:
            all_headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
        request = AWSRequest(method=method, url=url, headers=all_headers, data=body)
        request.context["client_config"] = mock.Mock(s3={"payload_signing_enabled": True})
        auth = Recording(credentials, "s3", "eu-west-1")
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=WHEN.replace(tzinfo=None)):
            auth.add_auth(request)
        canonical, string_to_sign, signature = auth.canonical, auth.string, auth.signed
        signed = {k.lower(): v for k, v in request.headers.items() if k.lower() != "authorization"}
        out["cases"].append({
            "name": name, "method": method, "scheme": scheme, "host": host, "path_style": path_style,
            "bucket": bucket, "key": key, "query": [[k, v] for k, v in query],
            "headers": {k.lower(): v for k, v in headers.items()}, "body_hex": body.hex(),
            "expected_url": url.split("?")[0] + ("?" + "&".join(sorted(query_string.split("&"))) if query else ""),
            "expected_path": path,
            "expected_signed_headers": dict(sorted(signed.items())),
            "expected_canonical_request": canonical,
            "expected_string_to_sign": string_to_sign,
            "expected_signature": signature,
            "expected_authorization": request.headers["Authorization"],
        })
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")

main()
