#!/usr/bin/env bash
# An S3 API on loopback for trying object storage without a provider (docs/deploy.md):
# moto's emulator (moto_server, from requirements-dev.txt) with the two buckets made.
#
#   scripts/s3-emulator.sh [PORT]        # default 9000; Ctrl-C stops it (data is in memory)
#
# Then, for Cetatea's processes:
#   CETATEA_S3_BUCKET=cetatea-media CETATEA_S3_PRIVATE_BUCKET=cetatea-private
#   CETATEA_S3_ENDPOINT_URL=http://127.0.0.1:9000 CETATEA_S3_REGION=eu-central-1
#   CETATEA_S3_ACCESS_KEY=test CETATEA_S3_SECRET_KEY=test
# Not for production: no persistence, no authentication.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${1:-9000}"
BIN=.venv/bin
$BIN/moto_server -H 127.0.0.1 -p "$PORT" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 50); do
    if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    sleep 0.2
done
$BIN/python - "$PORT" <<'EOF'
import json
import sys

import boto3

s3 = boto3.client(
    "s3",
    endpoint_url=f"http://127.0.0.1:{sys.argv[1]}",
    aws_access_key_id="test",
    aws_secret_access_key="test",
    region_name="eu-central-1",
)
where = {"LocationConstraint": "eu-central-1"}
s3.create_bucket(Bucket="cetatea-media", CreateBucketConfiguration=where)
s3.create_bucket(Bucket="cetatea-private", CreateBucketConfiguration=where)
# The public bucket: anyone may read an object (the map's photos); nobody may list it.
policy = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::cetatea-media/*",
        }
    ],
}
s3.put_bucket_policy(Bucket="cetatea-media", Policy=json.dumps(policy))
print(f"S3 emulator on http://127.0.0.1:{sys.argv[1]}: buckets cetatea-media, cetatea-private")
EOF
wait $SERVER
