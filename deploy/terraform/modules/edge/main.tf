# CloudFront in front of the gateway's load balancer. Static assets and
# product images are cached at the edge; pages, cart, checkout, the
# waiting room, the API and the collector never are (each shopper's answer
# is their own), and reach the origin with every header, cookie and query
# string. Shield Standard protects the distribution and Route 53 at no
# extra cost, with nothing to configure.

data "aws_cloudfront_cache_policy" "disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_cache_policy" "optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_origin_request_policy" "all_viewer" {
  name = "Managed-AllViewerExceptHostHeader"
}

# The origin-verify header: CloudFront adds it to every request to the
# origin; the gateway in the cluster refuses requests without it. Its value
# is generated here (in the state, never in a file) and handed to the
# cluster through Secrets Manager.
resource "random_password" "origin" {
  length  = 48
  special = false
}

resource "aws_secretsmanager_secret" "origin" {
  name_prefix = "${var.name}-origin-verify-"
  description = "Value of the X-Souq-Origin-Verify header CloudFront sends to the origin"
}

resource "aws_secretsmanager_secret_version" "origin" {
  secret_id     = aws_secretsmanager_secret.origin.id
  secret_string = random_password.origin.result
}

locals {
  origin_id = "gateway"

  # Never cached: checked before any cached pattern, so a static-looking
  # path under them is still not cached.
  uncached_paths = [
    "/api/*",
    "/v1/*",
    "/v1/batch",
    "/*/cart*",
    "/*/checkout*",
    "/*/queue*",
    "/dashboard*",
  ]

  # Cached at the edge: the origin sends immutable, fingerprinted assets
  # and product images.
  cached_paths = [
    "/assets/*",
    "/images/*",
  ]
}

resource "aws_cloudfront_distribution" "shop" {
  enabled         = true
  is_ipv6_enabled = true
  http_version    = "http2and3"
  comment         = "${var.name}: the shop"
  aliases         = [var.domain_name, "www.${var.domain_name}"]
  price_class     = var.price_class
  web_acl_id      = aws_wafv2_web_acl.shop.arn

  origin {
    origin_id   = local.origin_id
    domain_name = local.origin_fqdn

    custom_origin_config {
      http_port                = 80
      https_port               = 443
      origin_protocol_policy   = "https-only"
      origin_ssl_protocols     = ["TLSv1.2"]
      origin_read_timeout      = 30
      origin_keepalive_timeout = 60
    }

    custom_header {
      name  = "X-Souq-Origin-Verify"
      value = random_password.origin.result
    }
  }

  # Pages (the storefront's HTML) carry the shopper's cart and language:
  # not cached.
  default_cache_behavior {
    target_origin_id         = local.origin_id
    viewer_protocol_policy   = "redirect-to-https"
    allowed_methods          = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods           = ["GET", "HEAD"]
    compress                 = true
    cache_policy_id          = data.aws_cloudfront_cache_policy.disabled.id
    origin_request_policy_id = data.aws_cloudfront_origin_request_policy.all_viewer.id
  }

  dynamic "ordered_cache_behavior" {
    for_each = local.uncached_paths
    content {
      path_pattern             = ordered_cache_behavior.value
      target_origin_id         = local.origin_id
      viewer_protocol_policy   = "https-only"
      allowed_methods          = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
      cached_methods           = ["GET", "HEAD"]
      compress                 = true
      cache_policy_id          = data.aws_cloudfront_cache_policy.disabled.id
      origin_request_policy_id = data.aws_cloudfront_origin_request_policy.all_viewer.id
    }
  }

  dynamic "ordered_cache_behavior" {
    for_each = local.cached_paths
    content {
      path_pattern           = ordered_cache_behavior.value
      target_origin_id       = local.origin_id
      viewer_protocol_policy = "redirect-to-https"
      allowed_methods        = ["GET", "HEAD"]
      cached_methods         = ["GET", "HEAD"]
      compress               = true
      cache_policy_id        = data.aws_cloudfront_cache_policy.optimized.id
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = aws_acm_certificate_validation.cloudfront.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }
}
