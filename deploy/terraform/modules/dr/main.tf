# Disaster recovery in a region outside the Gulf (both Gulf regions lost
# Availability Zones in March 2026). Everything here is created with the
# DR region's provider: the archive's replica bucket and the copies of
# RDS's automated backups (point-in-time restore there). The cluster itself
# is rebuilt there from this repository when needed (README: DR drill).

resource "aws_kms_key" "dr" {
  description             = "${var.name}: DR copies of the archive and RDS backups"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

module "archive_replica" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.6.0"

  bucket        = var.archive_bucket_name
  force_destroy = false

  control_object_ownership = true
  object_ownership         = "BucketOwnerEnforced"

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true

  versioning = {
    enabled = true
  }

  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = aws_kms_key.dr.arn
      }
      bucket_key_enabled = true
    }
  }

  lifecycle_rule = [
    {
      id      = "replica-tiers"
      enabled = true
      transition = [
        { days = 90, storage_class = "GLACIER_IR" },
      ]
      noncurrent_version_expiration = {
        days = 30
      }
      abort_incomplete_multipart_upload_days = 1
    },
  ]

  attach_deny_insecure_transport_policy = true
}

resource "aws_db_instance_automated_backups_replication" "db" {
  source_db_instance_arn = var.source_db_instance_arn
  kms_key_id             = aws_kms_key.dr.arn
  retention_period       = var.backup_retention_days
}
