package terraform_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestParse: every .tf and .tfvars file parses, and there are some.
func TestParse(t *testing.T) {
	tr := mustLoad(t, ".")
	var tf, vars int
	for _, f := range tr.files {
		switch {
		case strings.HasSuffix(f.path, ".tf"):
			tf++
		case strings.HasSuffix(f.path, ".tfvars"):
			vars++
		}
	}
	if tf < 10 || vars < 1 {
		t.Fatalf("got %d .tf and %d .tfvars files, want at least 10 and 1", tf, vars)
	}
}

// TestPolicies runs every policy on the tree.
func TestPolicies(t *testing.T) {
	tr := mustLoad(t, ".")
	for _, name := range sortedPolicies() {
		t.Run(name, func(t *testing.T) {
			for _, problem := range policies[name](tr) {
				t.Error(problem)
			}
		})
	}
}

func sortedPolicies() []string {
	var names []string
	for n := range policies {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// breakages are edits that each break one policy: the policy must see
// them. old must occur exactly once in the file.
var breakages = []struct {
	name, policy, file, old, new string
}{
	{"variable without description", "variables", "modules/dr/variables.tf", `  description = "Days the replicated RDS backups are kept in the DR region."` + "\n", ""},
	{"variable without type", "variables", "envs/prod-me-central-1/variables.tf", "  description = \"EKS Kubernetes version.\"\n  type        = string\n", "  description = \"EKS Kubernetes version.\"\n"},
	{"registry module unpinned", "module-versions", "envs/prod-me-central-1/main.tf", `version = "5.21.0"`, `version = "~> 5.21"`},
	{"registry module without version", "module-versions", "modules/dr/main.tf", "  version = \"4.6.0\"\n", ""},
	{"provider without version", "providers", "modules/edge/versions.tf", "      version = \"~> 3.7\"\n", ""},
	{"no required_version", "providers", "modules/archive/versions.tf", "  required_version = \">= 1.6.0, < 2.0.0\"\n", ""},
	{"archive versioning off", "archive-bucket", "modules/archive/main.tf", "  versioning = {\n    enabled = true", "  versioning = {\n    enabled = false"},
	{"archive public", "archive-bucket", "modules/archive/main.tf", "restrict_public_buckets = true", "restrict_public_buckets = false"},
	{"archive not KMS", "archive-bucket", "modules/archive/main.tf", `sse_algorithm     = "aws:kms"`, `sse_algorithm     = "AES256"`},
	{"archive no lifecycle", "archive-bucket", "modules/archive/main.tf", "      id      = \"archive-tiers\"\n      enabled = true", "      id      = \"archive-tiers\"\n      enabled = false"},
	{"archive overwrites allowed", "archive-bucket", "modules/archive/main.tf", `variable = "s3:if-none-match"`, `variable = "s3:if-match"`},
	{"archive multipart refused", "archive-bucket", "modules/archive/main.tf", `variable = "s3:ObjectCreationOperation"`, `variable = "s3:DataAccessPointAccount"`},
	{"glue column missing", "archive-glue", "modules/archive/glue.tf", "    columns {\n      name = \"order_id\"\n      type = \"string\"\n    }\n", ""},
	{"glue column type", "archive-glue", "modules/archive/glue.tf", "      name = \"received_at\"\n      type = \"timestamp\"", "      name = \"received_at\"\n      type = \"bigint\""},
	{"rds single AZ", "rds", "envs/prod-me-central-1/data.tf", "  multi_az               = true", "  multi_az               = false"},
	{"rds unencrypted", "rds", "envs/prod-me-central-1/data.tf", "storage_encrypted     = true", "storage_encrypted     = false"},
	{"rds unprotected", "rds", "envs/prod-me-central-1/data.tf", "deletion_protection              = local.prod", "deletion_protection              = false"},
	{"prod is not prod", "rds", "envs/prod-me-central-1/main.tf", `prod    = var.environment == "prod"`, `prod    = var.environment == "production"`},
	{"redis cluster mode", "redis", "envs/prod-me-central-1/data.tf", `cluster_mode               = "disabled"`, `cluster_mode               = "enabled"`},
	{"redis no failover", "redis", "envs/prod-me-central-1/data.tf", "automatic_failover_enabled = true", "automatic_failover_enabled = false"},
	{"redis plain text", "redis", "envs/prod-me-central-1/data.tf", "transit_encryption_enabled = true", "transit_encryption_enabled = false"},
	{"redis one node", "redis", "envs/prod-me-central-1/data.tf", "num_cache_clusters         = 1 + var.redis_replicas", "num_cache_clusters         = 1"},
	{"checkout cached", "cloudfront-caching", "modules/edge/main.tf", "    \"/*/checkout*\",\n", ""},
	{"uncached behaviours dropped", "cloudfront-caching", "modules/edge/main.tf", "for_each = local.uncached_paths", "for_each = local.cached_paths"},
	{"pages cached", "cloudfront-caching", "modules/edge/main.tf", "    compress                 = true\n    cache_policy_id          = data.aws_cloudfront_cache_policy.disabled.id\n    origin_request_policy_id = data.aws_cloudfront_origin_request_policy.all_viewer.id\n  }\n\n  dynamic", "    compress                 = true\n    cache_policy_id          = data.aws_cloudfront_cache_policy.optimized.id\n    origin_request_policy_id = data.aws_cloudfront_origin_request_policy.all_viewer.id\n  }\n\n  dynamic"},
	{"api cached", "cloudfront-caching", "modules/edge/main.tf", "    \"/api/*\",\n", ""},
	{"images not cached", "cloudfront-caching", "modules/edge/main.tf", "    \"/images/*\",\n", ""},
	{"origin open", "origin-protected", "envs/prod-me-central-1/main.tf", "prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id", "cidr_ipv4         = \"0.0.0.0/0\""},
	{"origin header gone", "origin-protected", "modules/edge/main.tf", "      value = random_password.origin.result", "      value = var.name"},
	{"waf regional", "waf", "modules/edge/waf.tf", `scope       = "CLOUDFRONT"`, `scope       = "REGIONAL"`},
	{"waf collector limit off", "waf", "envs/prod-me-central-1/variables.tf", "default     = 124000", "default     = 2000"},
	{"waf checkout limit off", "waf", "envs/prod-me-central-1/variables.tf", "default     = 3000", "default     = 100000"},
	{"waf no checkout rule", "waf", "modules/edge/waf.tf", `name     = "checkout-rate"`, `name     = "orders-rate"`},
	{"waf no managed rules", "waf", "modules/edge/waf.tf", `name        = "AWSManagedRulesKnownBadInputsRuleSet"`, `name        = "AWSManagedRulesLinuxRuleSet"`},
	{"secret in tfvars", "no-secrets", "envs/prod-me-central-1/prod.tfvars", `domain_name                          = "shop.example"`, "domain_name = \"shop.example\"\ndb_password = \"hunter2hunter2\""},
	{"aws key in a file", "no-secrets", "modules/dr/main.tf", "# Disaster recovery", "# AKIAABCDEFGHIJKLMNOP Disaster recovery"},
	{"dr in the Gulf", "dr", "envs/prod-me-central-1/variables.tf", `default     = "eu-central-1"`, `default     = "me-south-1"`},
}

// TestPoliciesCatchBreakage edits a copy of the tree and requires the
// policy to report it: the checks above can fail.
func TestPoliciesCatchBreakage(t *testing.T) {
	for _, b := range breakages {
		t.Run(b.name, func(t *testing.T) {
			check, ok := policies[b.policy]
			if !ok {
				t.Fatalf("no policy %q", b.policy)
			}
			tr := mustLoad(t, mutatedCopy(t, b.file, b.old, b.new))
			if problems := check(tr); len(problems) == 0 {
				t.Errorf("policy %s saw nothing wrong after the edit of %s", b.policy, b.file)
			}
		})
	}
}

// TestParseCatchesSyntaxError: a broken file fails the load, naming it.
func TestParseCatchesSyntaxError(t *testing.T) {
	dir := mutatedCopy(t, "modules/edge/waf.tf", "  default_action {\n", "  default_action {{\n")
	_, err := load(dir)
	if err == nil || !strings.Contains(err.Error(), "waf.tf") {
		t.Fatalf("load of a broken waf.tf: got %v, want a parse error naming waf.tf", err)
	}
}

// mutatedCopy copies the tree's .tf and .tfvars files to a temporary
// directory, replacing old (which must occur once) with new in one file.
// Souq's Go source is read from the repository, not copied.
func mutatedCopy(t *testing.T, rel, old, new string) string {
	t.Helper()
	dst := t.TempDir()
	tr := mustLoad(t, ".")
	edited := false
	for _, f := range tr.files {
		src := string(f.src)
		if f.path == rel {
			if n := strings.Count(src, old); n != 1 {
				t.Fatalf("%s: %q occurs %d times, want once", rel, old, n)
			}
			src = strings.Replace(src, old, new, 1)
			edited = true
		}
		p := filepath.Join(dst, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !edited {
		t.Fatalf("no file %s in the tree", rel)
	}
	return dst
}
