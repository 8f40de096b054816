variable "name" {
  description = "Name of the environment; prefixes every resource."
  type        = string
  default     = "souq-prod"
}

variable "region" {
  description = "The shop's AWS region."
  type        = string
  default     = "me-central-1"
}

variable "dr_region" {
  description = "Disaster recovery region, outside the Gulf: the archive and RDS backups are copied there."
  type        = string
  default     = "eu-central-1"
}

variable "environment" {
  description = "Environment tag and the prod switch: deletion protection and final snapshots are on when it is prod."
  type        = string
  default     = "prod"
}

variable "vpc_cidr" {
  description = "The VPC's address range; split over three Availability Zones."
  type        = string
  default     = "10.40.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway for the VPC instead of one per Availability Zone (cheaper; an AZ loss then cuts egress)."
  type        = bool
  default     = false
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.33"
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "Addresses allowed to reach the EKS API endpoint from the internet (the operators' and CI's)."
  type        = list(string)
}

variable "system_node_instance_types" {
  description = "Instance types of the managed node group for system pods (Karpenter, CoreDNS, controllers)."
  type        = list(string)
  default     = ["m7g.large"]
}

variable "system_node_count" {
  description = "Nodes in the system node group: min and desired (one per Availability Zone)."
  type        = number
  default     = 3
}

variable "db_instance_class" {
  description = "RDS PostgreSQL instance class. A first environment: db.m7g.large; a sale: db.r7g.2xlarge or what `souq plan` gives."
  type        = string
  default     = "db.m7g.large"
}

variable "db_allocated_storage" {
  description = "RDS storage in GiB at creation (gp3)."
  type        = number
  default     = 100
}

variable "db_max_allocated_storage" {
  description = "RDS storage autoscaling ceiling in GiB."
  type        = number
  default     = 500
}

variable "db_engine_version" {
  description = "PostgreSQL engine version."
  type        = string
  default     = "17.5"
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups, kept in the shop's region and replicated to the DR region."
  type        = number
  default     = 14
}

variable "redis_node_type" {
  description = "ElastiCache node type. A first environment: cache.m7g.large; a sale: cache.r7g.xlarge or what `souq plan` gives."
  type        = string
  default     = "cache.m7g.large"
}

variable "redis_replicas" {
  description = "Read replicas beside the primary (at least 1 for Multi-AZ with automatic failover)."
  type        = number
  default     = 1

  validation {
    condition     = var.redis_replicas >= 1
    error_message = "Multi-AZ with automatic failover needs at least one replica."
  }
}

variable "redis_engine_version" {
  description = "Redis OSS engine version (cluster mode disabled)."
  type        = string
  default     = "7.1"
}

variable "archive_bucket_name" {
  description = "Name of the S3 bucket holding the Parquet event archive (globally unique)."
  type        = string
}

variable "archive_prefix" {
  description = "Key prefix of the archive inside the bucket: the path of --archive s3://<bucket>/<prefix>."
  type        = string
  default     = "prod"
}

variable "domain_name" {
  description = "The shop's domain, a Route 53 public hosted zone created here (e.g. shop.example)."
  type        = string
}

variable "origin_host" {
  description = "Host name, under domain_name, that CloudFront uses to reach the load balancer in front of the cluster."
  type        = string
  default     = "origin"
}

variable "origin_load_balancer_dns_name" {
  description = "DNS name of the load balancer the cluster's gateway Service created (empty before the first Kubernetes sync: no origin record yet)."
  type        = string
  default     = ""
}

variable "origin_load_balancer_zone_id" {
  description = "Route 53 hosted zone ID of that load balancer (the NLB's canonical zone)."
  type        = string
  default     = ""
}

variable "cloudfront_price_class" {
  description = "CloudFront price class; PriceClass_200 includes the Middle East edge locations."
  type        = string
  default     = "PriceClass_200"
}

variable "waf_checkout_limit_per_minute" {
  description = "Checkout requests one client address may make in 60 s before WAF blocks it (README: how it maps to --waitroom-initial-rate)."
  type        = number
  default     = 3000
}

variable "waf_collector_limit_per_minute" {
  description = "Collector requests one client address may make in 60 s before WAF blocks it (README: how it maps to --collector-rate)."
  type        = number
  default     = 124000
}

variable "app_namespace" {
  description = "Kubernetes namespace of Souq's workloads (the IRSA trust)."
  type        = string
  default     = "souq"
}

variable "archive_service_accounts" {
  description = "Kubernetes service accounts that read and write the archive (the archiver; the api for the aggregate check)."
  type        = list(string)
  default     = ["souq-archiver", "souq-api"]
}

variable "ecr_replicate_to_dr" {
  description = "Replicate the image repository to the DR region, so a cluster there can pull the same digests."
  type        = bool
  default     = true
}
