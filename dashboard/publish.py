"""Publish the dashboard page to its S3 bucket and refresh CloudFront, in one command:

    python -m dashboard.publish --stack lotus          # the bucket and distribution from the stack's outputs
    python -m dashboard.publish --bucket B [--distribution-id D]

The keys are the paths the page itself loads (read from index.html: /static/..., /vendor/chart.umd.js), so
the bucket holds exactly what the page asks for, Chart.js included (installed from npm by the lockfile,
`dashboard.assets`). Assets go first and index.html last, so a new page never names a file not yet there;
keys the page no longer uses are deleted; then CloudFront is told to drop its copies.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

from dashboard import assets
from dashboard.settings import STATIC_DIR, dashboard_settings

PAGE_KEY = "index.html"
CHART_PATH = "/vendor/chart.umd.js"
STACK_OUTPUTS = ("DashboardSiteBucketName", "DashboardDistributionId")  # deploy/template.yaml's outputs
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
# the page is revalidated on every load; assets have fixed names, so they are kept five minutes at most
PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=300"


class PublishError(RuntimeError):
    """The page cannot be published (a file it loads is missing, the stack has no such output, ...)."""


def site_files(assets_dir: Path | None = None) -> dict[str, Path]:
    """Bucket key -> local file, for the page and every file it loads."""
    page = STATIC_DIR / PAGE_KEY
    files: dict[str, Path] = {}
    for path in re.findall(r'(?:src|href)="(/[^"]*)"', page.read_text(encoding="utf-8")):
        if path.startswith("/static/"):
            local = STATIC_DIR / path.removeprefix("/static/")
        elif path == CHART_PATH:
            local = assets.ensure(assets_dir or dashboard_settings().assets_dir)
        else:
            raise PublishError(f"index.html loads {path}, which is neither under /static/ nor {CHART_PATH}")
        if not local.is_file():
            raise PublishError(f"index.html loads {path} but {local} does not exist")
        files[path.lstrip("/")] = local
    files[PAGE_KEY] = page  # last: uploaded after everything it names
    return files


def _content_type(key: str) -> str:
    suffix = Path(key).suffix
    if suffix not in CONTENT_TYPES:
        raise PublishError(f"no content type for {key}")
    return CONTENT_TYPES[suffix]


def stack_outputs(stack: str) -> dict[str, str]:
    """The outputs this command needs, from the CloudFormation stack."""
    import boto3

    found = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found}
    missing = [name for name in STACK_OUTPUTS if name not in outputs]
    if missing:
        raise PublishError(f"the stack {stack!r} has no output {', '.join(missing)} (deploy deploy/template.yaml)")
    return outputs


def publish(bucket: str, distribution_id: str | None = None, assets_dir: Path | None = None) -> dict[str, Any]:
    """Upload the page and its assets to `bucket`, delete what it no longer loads, invalidate CloudFront."""
    import boto3

    files = site_files(assets_dir)
    s3 = boto3.client("s3")
    for key, path in files.items():
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=_content_type(key),
            CacheControl=PAGE_CACHE if key == PAGE_KEY else ASSET_CACHE,
        )
    stale = [
        item["Key"]
        for listing in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in listing.get("Contents", [])
        if item["Key"] not in files
    ]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start : start + 1000]]})
    invalidation = None
    if distribution_id:
        invalidation = boto3.client("cloudfront").create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/*"]},
                "CallerReference": f"publish-{time.time_ns()}",
            },
        )["Invalidation"]["Id"]
    return {"bucket": bucket, "keys": list(files), "deleted": stale, "invalidation": invalidation}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.publish", description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="the stack of deploy/template.yaml: bucket and distribution from its outputs")
    where.add_argument("--bucket", help="the DashboardSiteBucketName output")
    parser.add_argument("--distribution-id", help="the DashboardDistributionId output (with --bucket)")
    args = parser.parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if args.stack:
            outputs = stack_outputs(args.stack)
            bucket, distribution = outputs["DashboardSiteBucketName"], outputs["DashboardDistributionId"]
        else:
            bucket, distribution = args.bucket, args.distribution_id
        result = publish(bucket, distribution)
    except (PublishError, RuntimeError, BotoCoreError, ClientError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"published {', '.join(result['keys'])} to s3://{bucket}/", end="")
    print(f"; CloudFront invalidation {result['invalidation']}" if result["invalidation"] else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
