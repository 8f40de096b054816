variable "name" {
  description = "Name of the environment; prefixes the edge resources."
  type        = string
}

variable "domain_name" {
  description = "The shop's domain; a public hosted zone is created for it."
  type        = string
}

variable "origin_host" {
  description = "Label under domain_name by which CloudFront reaches the load balancer."
  type        = string
}

variable "origin_load_balancer_dns_name" {
  description = "DNS name of the gateway's load balancer; empty until the cluster created it."
  type        = string
}

variable "origin_load_balancer_zone_id" {
  description = "Canonical hosted zone ID of the gateway's load balancer."
  type        = string
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
}

variable "checkout_limit_per_minute" {
  description = "WAF: checkout requests per client address per 60 s."
  type        = number
}

variable "collector_limit_per_minute" {
  description = "WAF: collector requests per client address per 60 s."
  type        = number
}
