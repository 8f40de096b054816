module "dr" {
  source = "../../modules/dr"

  providers = {
    aws = aws.dr
  }

  name                   = var.name
  archive_bucket_name    = "${var.archive_bucket_name}-dr"
  source_db_instance_arn = module.db.db_instance_arn
  backup_retention_days  = var.db_backup_retention_days
}
