variable "name" {
  description = "Name of the environment; prefixes the DR resources."
  type        = string
}

variable "archive_bucket_name" {
  description = "Name of the DR region's bucket receiving the archive's replicas."
  type        = string
}

variable "source_db_instance_arn" {
  description = "ARN of the RDS instance whose automated backups are replicated to the DR region."
  type        = string
}

variable "backup_retention_days" {
  description = "Days the replicated RDS backups are kept in the DR region."
  type        = number
}
