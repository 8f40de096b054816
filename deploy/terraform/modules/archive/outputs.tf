output "bucket_name" {
  description = "Archive bucket name."
  value       = module.bucket.s3_bucket_id
}

output "bucket_arn" {
  description = "Archive bucket ARN."
  value       = module.bucket.s3_bucket_arn
}

output "access_policy_arn" {
  description = "IAM policy the archiver and api roles attach: list, read, create and delete under the prefix."
  value       = aws_iam_policy.access.arn
}

output "glue_table" {
  description = "Athena table over the archive (database.table)."
  value       = "${aws_glue_catalog_database.archive.name}.${aws_glue_catalog_table.events.name}"
}
