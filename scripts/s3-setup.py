"""Prepares the moto S3 server for the tests: with the server's first unauthenticated actions
(INITIAL_NO_AUTH_ACTION_COUNT=4) it creates an IAM user, its access key, a policy allowing
everything, and the test bucket. From then on moto checks SigV4 signatures: requests signed
with a wrong secret get 403. Prints the environment the tests read."""
import json
import sys

import boto3

endpoint = sys.argv[1]
anonymous = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
iam = boto3.client("iam", **anonymous)
iam.create_user(UserName="roomstream")
key = iam.create_access_key(UserName="roomstream")["AccessKey"]
iam.put_user_policy(
    UserName="roomstream", PolicyName="everything",
    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
)
boto3.client("s3", **anonymous).create_bucket(Bucket="roomstream-test")
print(f"S3_TEST_ENDPOINT={endpoint}")
print("S3_TEST_REGION=us-east-1")
print("S3_TEST_BUCKET=roomstream-test")
print(f"S3_TEST_ACCESS_KEY_ID={key['AccessKeyId']}")
print(f"S3_TEST_SECRET_ACCESS_KEY={key['SecretAccessKey']}")
