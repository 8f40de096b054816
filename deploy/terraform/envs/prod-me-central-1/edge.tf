module "edge" {
  source = "../../modules/edge"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name                          = var.name
  domain_name                   = var.domain_name
  origin_host                   = var.origin_host
  origin_load_balancer_dns_name = var.origin_load_balancer_dns_name
  origin_load_balancer_zone_id  = var.origin_load_balancer_zone_id
  price_class                   = var.cloudfront_price_class
  checkout_limit_per_minute     = var.waf_checkout_limit_per_minute
  collector_limit_per_minute    = var.waf_collector_limit_per_minute
}
