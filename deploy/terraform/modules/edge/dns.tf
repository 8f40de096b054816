resource "aws_route53_zone" "shop" {
  name    = var.domain_name
  comment = "${var.name}: the shop"
}

locals {
  origin_fqdn = "${var.origin_host}.${var.domain_name}"
}

# CloudFront's certificate must be in us-east-1.
resource "aws_acm_certificate" "cloudfront" {
  provider = aws.us_east_1

  domain_name               = var.domain_name
  subject_alternative_names = ["www.${var.domain_name}"]
  validation_method         = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

# The origin's certificate, in the shop's region, for the gateway's NLB TLS
# listener (CloudFront speaks HTTPS to the origin and checks its name).
resource "aws_acm_certificate" "origin" {
  domain_name       = local.origin_fqdn
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  validation = merge(
    { for o in aws_acm_certificate.cloudfront.domain_validation_options : o.domain_name => o },
    { for o in aws_acm_certificate.origin.domain_validation_options : o.domain_name => o },
  )
}

resource "aws_route53_record" "validation" {
  for_each = local.validation

  zone_id         = aws_route53_zone.shop.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "cloudfront" {
  provider = aws.us_east_1

  certificate_arn         = aws_acm_certificate.cloudfront.arn
  validation_record_fqdns = [for d in concat([var.domain_name], ["www.${var.domain_name}"]) : aws_route53_record.validation[d].fqdn]
}

resource "aws_acm_certificate_validation" "origin" {
  certificate_arn         = aws_acm_certificate.origin.arn
  validation_record_fqdns = [aws_route53_record.validation[local.origin_fqdn].fqdn]
}

resource "aws_route53_record" "origin" {
  count = var.origin_load_balancer_dns_name == "" ? 0 : 1

  zone_id = aws_route53_zone.shop.zone_id
  name    = local.origin_fqdn
  type    = "A"

  alias {
    name                   = var.origin_load_balancer_dns_name
    zone_id                = var.origin_load_balancer_zone_id
    evaluate_target_health = true
  }
}

resource "aws_route53_record" "shop" {
  for_each = toset(["A", "AAAA"])

  zone_id = aws_route53_zone.shop.zone_id
  name    = var.domain_name
  type    = each.key

  alias {
    name                   = aws_cloudfront_distribution.shop.domain_name
    zone_id                = aws_cloudfront_distribution.shop.hosted_zone_id
    evaluate_target_health = false
  }
}

resource "aws_route53_record" "www" {
  for_each = toset(["A", "AAAA"])

  zone_id = aws_route53_zone.shop.zone_id
  name    = "www.${var.domain_name}"
  type    = each.key

  alias {
    name                   = aws_cloudfront_distribution.shop.domain_name
    zone_id                = aws_cloudfront_distribution.shop.hosted_zone_id
    evaluate_target_health = false
  }
}
