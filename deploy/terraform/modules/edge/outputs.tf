output "cloudfront_domain_name" {
  description = "CloudFront distribution domain name."
  value       = aws_cloudfront_distribution.shop.domain_name
}

output "name_servers" {
  description = "Name servers of the hosted zone."
  value       = aws_route53_zone.shop.name_servers
}

output "origin_secret_arn" {
  description = "Secrets Manager secret holding the origin-verify header value."
  value       = aws_secretsmanager_secret.origin.arn
}

output "web_acl_arn" {
  description = "WAF web ACL attached to CloudFront."
  value       = aws_wafv2_web_acl.shop.arn
}

output "origin_certificate_arn" {
  description = "Regional ACM certificate for the origin host, for the gateway NLB's TLS listener."
  value       = aws_acm_certificate_validation.origin.certificate_arn
}
