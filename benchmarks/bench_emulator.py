"""Cost of the emulator's authorization layer: 1 KB put+get, with and without it.

Runs two emulators in this process (same moto state): one with enforce=True,
called as an IAM user whose access comes from a group policy, a user policy
and a bucket policy with a condition; one with enforce=False: the same proxy, TLS and
moto, with labkit's behaviours (moto's classes are patched once per process, so
they apply to both), but no authorization pipeline. The ratio is the pipeline's cost.
Prints the median put+get latency of each and their ratio (target <= 1.3).
Then the same with SSE-KMS (issue 12): a customer managed key as the bucket's
default encryption (with a Bucket Key), so every put needs kms:GenerateDataKey
and every get kms:Decrypt, decided from the key policy, IAM and grants.

    .venv/bin/python benchmarks/bench_emulator.py [ROUNDS]
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labkit.emulator.server import Emulator  # noqa: E402

BUCKET = "bench-authz-bucket"
BODY = b"x" * 1024


def _setup(em) -> tuple[str, str]:
    """A bucket with an SSE-enforcing policy and a user allowed by group + user policy."""
    s3, iam = em.client("s3"), em.client("iam")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "DenyUnencrypted", "Effect": "Deny", "Principal": "*",
                       "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*",
                       "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}]}))
    iam.create_group(GroupName="bench-group")
    iam.put_group_policy(GroupName="bench-group", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                       "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]}]}))
    iam.create_user(UserName="bench-user")
    iam.add_user_to_group(GroupName="bench-group", UserName="bench-user")
    iam.put_user_policy(UserName="bench-user", PolicyName="write", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                       "Resource": f"arn:aws:s3:::{BUCKET}/*",
                       "Condition": {"StringEquals": {"s3:x-amz-server-side-encryption": "AES256"}}}]}))
    key = iam.create_access_key(UserName="bench-user")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _setup_kms(em, user: str = "bench-user") -> None:
    """BUCKET encrypts with a customer managed key (Bucket Key on); USER may use it via S3."""
    kms, s3, iam = em.client("kms"), em.client("s3"), em.client("iam")
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]  # default policy: IAM policies count
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                               "KMSMasterKeyID": key_arn},
        "BucketKeyEnabled": True}]})
    iam.put_user_policy(UserName=user, PolicyName="kms", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                       "Resource": key_arn, "Condition": {"StringEquals": {
                           "kms:ViaService": "s3.us-east-1.amazonaws.com"}}}]}))
    iam.put_user_policy(UserName=user, PolicyName="write", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                       "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))


def _median_ms(s3, rounds: int, sse: str = "AES256", cpu: list | None = None) -> float:
    """Median wall time of a put+get; CPU: also append the median process CPU time
    (client and emulator run in this process: CPU time is what other load cannot inflate)."""
    samples, cpu_samples = [], []
    for i in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        s3.put_object(Bucket=BUCKET, Key=f"k{i % 10}", Body=BODY, ServerSideEncryption=sse)
        s3.get_object(Bucket=BUCKET, Key=f"k{i % 10}")["Body"].read()
        samples.append((time.perf_counter() - start) * 1000)
        cpu_samples.append((time.process_time() - start_cpu) * 1000)
    if cpu is not None:
        cpu.append(statistics.median(cpu_samples))
    return statistics.median(samples)


def _compare(user_s3, bare_s3, rounds: int, sse: str, label: str) -> float:
    _median_ms(user_s3, 20, sse), _median_ms(bare_s3, 20, sse)  # warm up both paths
    # Interleave the two so machine load affects both alike.
    enforced_ms, bare_ms, enforced_cpu, bare_cpu = [], [], [], []
    for _ in range(5):
        enforced_ms.append(_median_ms(user_s3, rounds // 5, sse, enforced_cpu))
        bare_ms.append(_median_ms(bare_s3, rounds // 5, sse, bare_cpu))
    e, b = statistics.median(enforced_ms), statistics.median(bare_ms)
    ec, bc = statistics.median(enforced_cpu), statistics.median(bare_cpu)
    print(f"1 KB put+get median, enforce=True ({label}): {e:.2f} ms wall, {ec:.2f} ms CPU")
    print(f"1 KB put+get median, enforce=False (no authorization pipeline): {b:.2f} ms wall, "
          f"{bc:.2f} ms CPU")
    print(f"ratio: {e / b:.2f}x wall, {ec / bc:.2f}x CPU (target <= 1.3x; CPU is the figure "
          "to trust on a loaded machine)")
    return ec / bc


def main(rounds: int = 200) -> float:
    home = Path(tempfile.mkdtemp(prefix="labkit-bench-"))
    enforced = Emulator(home / "enforced", enforce=True).start()
    bare = Emulator(home / "bare", enforce=False).start()
    try:
        key_id, secret = _setup(enforced)
        user_s3 = enforced.client("s3", key_id, secret)
        bare_s3 = bare.client("s3", key_id, secret)
        ratio = _compare(user_s3, bare_s3, rounds, "AES256",
                         "IAM user, group+user+bucket policies")
        _setup_kms(enforced)
        kms_ratio = _compare(user_s3, bare_s3, rounds, "aws:kms",
                             "SSE-KMS: key policy + IAM with kms:ViaService, Bucket Key")
        return max(ratio, kms_ratio)
    finally:
        enforced.stop()
        bare.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
