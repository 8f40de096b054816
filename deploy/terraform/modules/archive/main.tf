# The Parquet event archive (docs/archive.md): keys
# <prefix>/events/dt=YYYY-MM-DD/hour=HH/events-<first>-<last>.parquet and
# <prefix>/events/_manifests/<first>.json, every one created once with a
# conditional write (If-None-Match: *) and never replaced.

locals {
  events_prefix = "${var.prefix}/events/"
  # Built from the name, not read from the module, so the bucket policy
  # passed into the module does not wait on the module's outputs.
  bucket_arn = "arn:aws:s3:::${var.bucket_name}"
}

data "aws_iam_policy_document" "bucket" {
  # Create-only where the archive writes: a PutObject or
  # CompleteMultipartUpload under events/ without If-None-Match is refused,
  # so no key can be overwritten. CreateMultipartUpload and UploadPart take
  # no conditional header; s3:ObjectCreationOperation exempts them.
  statement {
    sid       = "ArchiveIsCreateOnly"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/${local.events_prefix}*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Null"
      variable = "s3:if-none-match"
      values   = ["true"]
    }

    condition {
      test     = "Bool"
      variable = "s3:ObjectCreationOperation"
      values   = ["true"]
    }
  }
}

module "bucket" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.6.0"

  bucket        = var.bucket_name
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
        kms_master_key_id = var.kms_key_arn
      }
      bucket_key_enabled = true
    }
  }

  lifecycle_rule = [
    {
      id      = "archive-tiers"
      enabled = true
      filter = {
        prefix = local.events_prefix
      }
      transition = [
        { days = var.ia_after_days, storage_class = "STANDARD_IA" },
        { days = var.glacier_ir_after_days, storage_class = "GLACIER_IR" },
      ]
      # Keys are never overwritten; noncurrent versions come only from the
      # archiver deleting an orphan file after a crash.
      noncurrent_version_expiration = {
        days = 30
      }
      abort_incomplete_multipart_upload_days = 1
    },
  ]

  attach_deny_insecure_transport_policy = true
  attach_policy                         = true
  policy                                = data.aws_iam_policy_document.bucket.json

  replication_configuration = {
    role = aws_iam_role.replication.arn
    rules = [
      {
        id       = "archive-to-dr"
        status   = "Enabled"
        priority = 10

        delete_marker_replication = false
        filter = {
          prefix = local.events_prefix
        }
        source_selection_criteria = {
          sse_kms_encrypted_objects = {
            enabled = true
          }
        }
        destination = {
          bucket             = var.replication_destination_bucket_arn
          storage_class      = "STANDARD_IA"
          replica_kms_key_id = var.replication_destination_kms_arn
        }
      },
    ]
  }
}

################################################################################
# What the archiver and api may do: list, read, create, delete orphans
################################################################################

data "aws_iam_policy_document" "access" {
  statement {
    sid       = "List"
    actions   = ["s3:ListBucket"]
    resources = [module.bucket.s3_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.prefix}/*"]
    }
  }

  statement {
    sid = "Objects"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
    ]
    resources = ["${module.bucket.s3_bucket_arn}/${var.prefix}/*"]
  }

  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_policy" "access" {
  name_prefix = "souq-archive-"
  description = "Souq archive access under ${var.prefix}/"
  policy      = data.aws_iam_policy_document.access.json
}

################################################################################
# Replication to the DR region
################################################################################

data "aws_iam_policy_document" "replication_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "replication" {
  name_prefix        = "souq-archive-replication-"
  assume_role_policy = data.aws_iam_policy_document.replication_assume.json
}

data "aws_iam_policy_document" "replication" {
  statement {
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [local.bucket_arn]
  }

  statement {
    actions = [
      "s3:GetObjectVersionForReplication",
      "s3:GetObjectVersionAcl",
      "s3:GetObjectVersionTagging",
    ]
    resources = ["${local.bucket_arn}/*"]
  }

  statement {
    actions   = ["s3:ReplicateObject", "s3:ReplicateTags"]
    resources = ["${var.replication_destination_bucket_arn}/*"]
  }

  statement {
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  statement {
    actions   = ["kms:Encrypt"]
    resources = [var.replication_destination_kms_arn]
  }
}

resource "aws_iam_role_policy" "replication" {
  name   = "replicate-archive"
  role   = aws_iam_role.replication.id
  policy = data.aws_iam_policy_document.replication.json
}
