output "archive_bucket_arn" {
  description = "ARN of the DR archive bucket."
  value       = module.archive_replica.s3_bucket_arn
}

output "kms_key_arn" {
  description = "KMS key of the DR region (archive replicas and replicated RDS backups)."
  value       = aws_kms_key.dr.arn
}

output "db_backups_replication_id" {
  description = "ID of the replicated RDS automated backups (restore from it in the drill)."
  value       = aws_db_instance_automated_backups_replication.db.id
}
