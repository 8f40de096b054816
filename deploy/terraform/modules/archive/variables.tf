variable "bucket_name" {
  description = "Name of the archive bucket."
  type        = string
}

variable "prefix" {
  description = "Key prefix of the archive (the path of --archive s3://bucket/prefix); its events/ holds the Parquet files."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key encrypting the archive at rest."
  type        = string
}

variable "glue_db_name" {
  description = "Glue database holding the archive's Athena table."
  type        = string
}

variable "ia_after_days" {
  description = "Days after which archive objects move to S3 Standard-IA."
  type        = number
  default     = 30
}

variable "glacier_ir_after_days" {
  description = "Days after which archive objects move to S3 Glacier Instant Retrieval (Athena still reads them)."
  type        = number
  default     = 180
}

variable "replication_destination_bucket_arn" {
  description = "ARN of the DR region's bucket receiving the archive's replicas."
  type        = string
}

variable "replication_destination_kms_arn" {
  description = "KMS key in the DR region encrypting the replicas."
  type        = string
}
