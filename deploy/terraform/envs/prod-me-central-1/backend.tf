# State lives in S3 in the Gulf region, with S3's own lock file (Terraform
# 1.10+). The bucket is created once by hand (README: "State backend");
# bucket and key are given at init time:
#   terraform init -backend-config=bucket=<state bucket> -backend-config=key=souq/prod-me-central-1.tfstate
terraform {
  backend "s3" {
    region       = "me-central-1"
    encrypt      = true
    use_lockfile = true
  }
}
