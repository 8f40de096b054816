output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.eks.cluster_name
}

output "karpenter_queue_name" {
  description = "SQS interruption queue: Karpenter's settings.interruptionQueue."
  value       = module.karpenter.queue_name
}

output "karpenter_node_role_name" {
  description = "IAM role of Karpenter's nodes: the EC2NodeClass's spec.role."
  value       = module.karpenter.node_iam_role_name
}

output "archive_role_arn" {
  description = "IRSA role for the archiver and api service accounts (eks.amazonaws.com/role-arn annotation)."
  value       = module.archive_irsa.iam_role_arn
}

output "archive_url" {
  description = "The --archive value (SOUQ_ARCHIVE) for the archiver and api."
  value       = "s3://${module.archive.bucket_name}/${var.archive_prefix}?region=${var.region}"
}

output "db_endpoint" {
  description = "PostgreSQL endpoint (host:port); the password is in the Secrets Manager secret below."
  value       = module.db.db_instance_endpoint
}

output "db_master_secret_arn" {
  description = "Secrets Manager secret holding the RDS master credentials (External Secrets reads it)."
  value       = module.db.db_instance_master_user_secret_arn
}

output "redis_primary_endpoint" {
  description = "Redis primary endpoint: --hot rediss://<this>:6379/0."
  value       = aws_elasticache_replication_group.redis.primary_endpoint_address
}

output "ecr_repository_url" {
  description = "Image repository URL."
  value       = module.ecr.repository_url
}

output "origin_security_group_id" {
  description = "Security group for the gateway's NLB (service.beta.kubernetes.io/aws-load-balancer-security-groups)."
  value       = aws_security_group.origin.id
}

output "origin_secret_arn" {
  description = "Secrets Manager secret with the header value CloudFront sends to the origin; the gateway refuses requests without it."
  value       = module.edge.origin_secret_arn
}

output "cloudfront_domain_name" {
  description = "CloudFront distribution domain name."
  value       = module.edge.cloudfront_domain_name
}

output "name_servers" {
  description = "Name servers of the hosted zone, to delegate the domain."
  value       = module.edge.name_servers
}

output "origin_certificate_arn" {
  description = "Certificate for the gateway NLB's TLS listener (service.beta.kubernetes.io/aws-load-balancer-ssl-cert)."
  value       = module.edge.origin_certificate_arn
}

output "glue_table" {
  description = "Athena table over the archive (database.table)."
  value       = module.archive.glue_table
}

output "db_backups_replication_arn" {
  description = "ARN of the RDS automated backups replicated to the DR region (the DR drill restores from it)."
  value       = module.dr.db_backups_replication_id
}
