################################################################################
# PostgreSQL: orders, stock, idempotency keys, the outbox
################################################################################

resource "aws_kms_key" "data" {
  description             = "${var.name}: RDS, ElastiCache and the archive at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_security_group" "db" {
  name        = "${var.name}-postgres"
  description = "PostgreSQL from the cluster's nodes only"
  vpc_id      = module.vpc.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "db_from_nodes" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from EKS nodes"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = module.eks.node_security_group_id
}

module "db" {
  source  = "terraform-aws-modules/rds/aws"
  version = "6.12.0"

  identifier = "${var.name}-postgres"

  engine               = "postgres"
  engine_version       = var.db_engine_version
  family               = "postgres17"
  major_engine_version = "17"
  instance_class       = var.db_instance_class

  storage_type          = "gp3"
  allocated_storage     = var.db_allocated_storage
  max_allocated_storage = var.db_max_allocated_storage
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.data.arn

  db_name  = "souq"
  username = "souq"
  port     = 5432
  # The master password is generated and rotated by RDS in Secrets Manager;
  # it never appears in Terraform's files.
  manage_master_user_password = true

  multi_az               = true
  db_subnet_group_name   = module.vpc.database_subnet_group_name
  vpc_security_group_ids = [aws_security_group.db.id]

  deletion_protection              = local.prod
  skip_final_snapshot              = !local.prod
  final_snapshot_identifier_prefix = "${var.name}-final"
  backup_retention_period          = var.db_backup_retention_days
  backup_window                    = "22:00-23:00"
  maintenance_window               = "Mon:00:00-Mon:01:00"
  copy_tags_to_snapshot            = true

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.data.arn
  performance_insights_retention_period = 7
  create_monitoring_role                = true
  monitoring_interval                   = 60
  enabled_cloudwatch_logs_exports       = ["postgresql"]

  parameters = [
    { name = "rds.force_ssl", value = "1" },
    { name = "log_min_duration_statement", value = "500" },
  ]
}

################################################################################
# Redis: hot aggregates, rate limits, the waiting room (cluster mode off)
################################################################################

resource "aws_security_group" "redis" {
  name        = "${var.name}-redis"
  description = "Redis from the cluster's nodes only"
  vpc_id      = module.vpc.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_nodes" {
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis TLS from EKS nodes"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = module.eks.node_security_group_id
}

resource "aws_elasticache_subnet_group" "redis" {
  name       = "${var.name}-redis"
  subnet_ids = module.vpc.private_subnets
}

resource "aws_elasticache_replication_group" "redis" {
  replication_group_id = "${var.name}-redis"
  description          = "Souq hot store: aggregates, rate limits, waiting room"

  engine               = "redis"
  engine_version       = var.redis_engine_version
  node_type            = var.redis_node_type
  parameter_group_name = "default.redis7"
  port                 = 6379

  # Souq speaks to one primary (go-redis, not the cluster client): cluster
  # mode off, one shard, a replica in another zone.
  cluster_mode               = "disabled"
  num_cache_clusters         = 1 + var.redis_replicas
  automatic_failover_enabled = true
  multi_az_enabled           = true

  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.data.arn

  subnet_group_name  = aws_elasticache_subnet_group.redis.name
  security_group_ids = [aws_security_group.redis.id]

  snapshot_retention_limit   = 3
  snapshot_window            = "23:00-00:00"
  maintenance_window         = "mon:01:00-mon:02:00"
  auto_minor_version_upgrade = true
  apply_immediately          = false
}

################################################################################
# The Parquet archive and its Athena table
################################################################################

module "archive" {
  source = "../../modules/archive"

  bucket_name  = var.archive_bucket_name
  prefix       = var.archive_prefix
  kms_key_arn  = aws_kms_key.data.arn
  glue_db_name = replace("${var.name}_archive", "-", "_")

  replication_destination_bucket_arn = module.dr.archive_bucket_arn
  replication_destination_kms_arn    = module.dr.kms_key_arn
}
