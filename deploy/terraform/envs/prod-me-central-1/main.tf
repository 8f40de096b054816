data "aws_caller_identity" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  prod    = var.environment == "prod"
  azs     = slice(data.aws_availability_zones.available.names, 0, 3)
  cluster = var.name

  tags = {
    project     = "souq"
    environment = var.environment
    managed-by  = "terraform"
  }
}

################################################################################
# Network: one VPC over three Availability Zones
################################################################################

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.21.0"

  name = var.name
  cidr = var.vpc_cidr
  azs  = local.azs

  private_subnets  = [for i in range(3) : cidrsubnet(var.vpc_cidr, 4, i)]
  public_subnets   = [for i in range(3) : cidrsubnet(var.vpc_cidr, 8, 48 + i)]
  database_subnets = [for i in range(3) : cidrsubnet(var.vpc_cidr, 8, 52 + i)]

  create_database_subnet_group = true
  enable_nat_gateway           = true
  single_nat_gateway           = var.single_nat_gateway
  one_nat_gateway_per_az       = !var.single_nat_gateway
  enable_dns_hostnames         = true

  public_subnet_tags = {
    "kubernetes.io/role/elb" = "1"
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = "1"
    "karpenter.sh/discovery"          = local.cluster
  }
}

################################################################################
# EKS: control plane, a small managed node group for system pods; Karpenter
# (NodePools in deploy/k8s) brings every other node.
################################################################################

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "20.37.2"

  cluster_name    = local.cluster
  cluster_version = var.kubernetes_version

  cluster_endpoint_public_access           = true
  cluster_endpoint_public_access_cidrs     = var.cluster_endpoint_public_access_cidrs
  enable_cluster_creator_admin_permissions = true

  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets

  cluster_addons = {
    coredns                = {}
    kube-proxy             = {}
    vpc-cni                = { before_compute = true }
    eks-pod-identity-agent = { before_compute = true }
  }

  eks_managed_node_groups = {
    system = {
      ami_type       = "AL2023_ARM_64_STANDARD"
      instance_types = var.system_node_instance_types
      capacity_type  = "ON_DEMAND"
      min_size       = var.system_node_count
      desired_size   = var.system_node_count
      max_size       = var.system_node_count + 3

      labels = {
        "souq.dev/pool" = "system"
      }
      taints = {
        system = {
          key    = "CriticalAddonsOnly"
          value  = "true"
          effect = "NO_SCHEDULE"
        }
      }
    }
  }

  node_security_group_tags = {
    "karpenter.sh/discovery" = local.cluster
  }
}

module "karpenter" {
  source  = "terraform-aws-modules/eks/aws//modules/karpenter"
  version = "20.37.2"

  cluster_name          = module.eks.cluster_name
  enable_v1_permissions = true

  enable_pod_identity             = true
  create_pod_identity_association = true
  namespace                       = "kube-system"
  service_account                 = "karpenter"

  # The spot interruption queue: EventBridge rules for spot interruption,
  # rebalance, instance state and health events feed it.
  enable_spot_termination = true
  queue_name              = "${local.cluster}-karpenter"

  node_iam_role_use_name_prefix = false
  node_iam_role_name            = "${local.cluster}-karpenter-node"
  node_iam_role_additional_policies = {
    AmazonSSMManagedInstanceCore = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
  }
}

################################################################################
# The archive's readers and writers (IRSA): the archiver and the api
################################################################################

module "archive_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.55.0"

  role_name = "${var.name}-archive"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = [for sa in var.archive_service_accounts : "${var.app_namespace}:${sa}"]
    }
  }

  role_policy_arns = {
    archive = module.archive.access_policy_arn
  }
}

################################################################################
# The load balancer in front of the cluster accepts CloudFront only
################################################################################

data "aws_ec2_managed_prefix_list" "cloudfront" {
  name = "com.amazonaws.global.cloudfront.origin-facing"
}

resource "aws_security_group" "origin" {
  name        = "${var.name}-origin"
  description = "The gateway's load balancer: HTTPS from CloudFront's origin-facing addresses only"
  vpc_id      = module.vpc.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "origin_https_from_cloudfront" {
  security_group_id = aws_security_group.origin.id
  description       = "HTTPS from CloudFront origin-facing servers"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id
}

resource "aws_vpc_security_group_egress_rule" "origin_to_nodes" {
  security_group_id            = aws_security_group.origin.id
  description                  = "To the gateway pods on the nodes"
  ip_protocol                  = "-1"
  referenced_security_group_id = module.eks.node_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "nodes_from_origin" {
  security_group_id            = module.eks.node_security_group_id
  description                  = "The gateway's load balancer to its pods"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.origin.id
}

################################################################################
# Image repository
################################################################################

module "ecr" {
  source  = "terraform-aws-modules/ecr/aws"
  version = "2.4.0"

  repository_name                 = "souq"
  repository_image_tag_mutability = "IMMUTABLE"
  repository_image_scan_on_push   = true
  repository_encryption_type      = "KMS"

  repository_read_access_arns = [module.karpenter.node_iam_role_arn]

  create_lifecycle_policy = true
  repository_lifecycle_policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last 200 images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = 200
      }
      action = { type = "expire" }
    }]
  })

  create_registry_replication_configuration = var.ecr_replicate_to_dr
  registry_replication_rules = [{
    destinations = [{
      region      = var.dr_region
      registry_id = data.aws_caller_identity.current.account_id
    }]
    repository_filters = [{
      filter      = "souq"
      filter_type = "PREFIX_MATCH"
    }]
  }]
}
