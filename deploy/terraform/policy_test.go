package terraform_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// repoRoot is the repository's root seen from this directory; the WAF and
// Glue policies read Souq's own Go source there.
const repoRoot = "../.."

// The directories whose policies are checked.
const (
	envDir     = "envs/prod-me-central-1/"
	archiveDir = "modules/archive/"
	edgeDir    = "modules/edge/"
)

// policy is one rule over the tree; it returns what breaks it.
type policy func(tr *tree) []string

// policies lists every rule by name (README: "Offline checks").
var policies = map[string]policy{
	"variables":          variablesDocumented,
	"module-versions":    modulesPinned,
	"providers":          providersPinned,
	"archive-bucket":     archiveBucket,
	"archive-glue":       archiveGlue,
	"rds":                rdsPolicy,
	"redis":              redisPolicy,
	"cloudfront-caching": cloudfrontCaching,
	"origin-protected":   originProtected,
	"waf":                wafPolicy,
	"no-secrets":         noSecrets,
	"dr":                 drPolicy,
}

// variablesDocumented: every variable has a non-empty description and a
// type.
func variablesDocumented(tr *tree) []string {
	var p []string
	vars := tr.blocks("", "variable")
	if len(vars) == 0 {
		return []string{"no variable blocks found"}
	}
	for _, v := range vars {
		if d, ok := str(v.expr("description")); !ok || strings.TrimSpace(d) == "" {
			p = append(p, v.where()+": no description")
		}
		if v.attr("type") == "" {
			p = append(p, v.where()+": no type")
		}
	}
	return p
}

var exactVersion = regexp.MustCompile(`^\d+\.\d+\.\d+$`)

// modulesPinned: a module from the registry pins one exact version; a
// local module has no version.
func modulesPinned(tr *tree) []string {
	var p []string
	for _, m := range tr.blocks("", "module") {
		source, ok := str(m.expr("source"))
		if !ok {
			p = append(p, m.where()+": source is not a literal string")
			continue
		}
		if strings.HasPrefix(source, "./") || strings.HasPrefix(source, "../") {
			continue
		}
		if strings.Contains(source, "://") || strings.HasPrefix(source, "git::") {
			p = append(p, m.where()+": source "+source+" is not from the registry")
			continue
		}
		v, _ := str(m.expr("version"))
		if !exactVersion.MatchString(v) {
			p = append(p, fmt.Sprintf("%s: registry module %s has version %q, want an exact x.y.z", m.where(), source, v))
		}
	}
	return p
}

// providersPinned: every directory of .tf files declares required_version
// and required_providers, each provider with a source and a version
// constraint.
func providersPinned(tr *tree) []string {
	var p []string
	for _, d := range tr.dirs() {
		tf := tr.blocks(d+"/", "terraform")
		var rv string
		var providers []found
		for _, b := range tf {
			if s := b.attr("required_version"); s != "" {
				rv = s
			}
			providers = append(providers, b.sub("required_providers")...)
		}
		if rv == "" {
			p = append(p, d+": no terraform.required_version")
		}
		if len(providers) == 0 {
			p = append(p, d+": no terraform.required_providers")
			continue
		}
		for _, rp := range providers {
			for name, a := range rp.b.Body.Attributes {
				if fieldText(rp.f, a.Expr, "source") == "" {
					p = append(p, fmt.Sprintf("%s: provider %s has no source", d, name))
				}
				if v, _ := str(field(rp.f, a.Expr, "version")); strings.TrimSpace(v) == "" {
					p = append(p, fmt.Sprintf("%s: provider %s has no version constraint", d, name))
				}
			}
		}
	}
	return p
}

// archiveBucket: versioning, KMS encryption, public access blocked,
// lifecycle to cheaper classes, TLS only, and the create-only bucket policy
// over the keys the archiver writes with If-None-Match.
func archiveBucket(tr *tree) []string {
	m, miss := tr.one(archiveDir, "module", "bucket")
	if miss != "" {
		return []string{miss}
	}
	var p []string
	want := map[string]string{
		"block_public_acls":                     "true",
		"block_public_policy":                   "true",
		"ignore_public_acls":                    "true",
		"restrict_public_buckets":               "true",
		"attach_deny_insecure_transport_policy": "true",
		"attach_policy":                         "true",
		"force_destroy":                         "false",
	}
	for k, v := range want {
		if got := m.attr(k); got != v {
			p = append(p, fmt.Sprintf("%s: %s = %q, want %q", m.where(), k, got, v))
		}
	}
	if got := fieldText(m.f, m.expr("versioning"), "enabled"); got != "true" {
		p = append(p, fmt.Sprintf("%s: versioning.enabled = %q, want true", m.where(), got))
	}
	if got, _ := str(field(m.f, m.expr("server_side_encryption_configuration"), "rule", "apply_server_side_encryption_by_default", "sse_algorithm")); got != "aws:kms" {
		p = append(p, fmt.Sprintf("%s: sse_algorithm = %q, want aws:kms", m.where(), got))
	}
	lc, ok := m.expr("lifecycle_rule").(*hclsyntax.TupleConsExpr)
	transitions := 0
	if ok {
		for _, r := range lc.Exprs {
			if fieldText(m.f, r, "enabled") != "true" {
				continue
			}
			if t, ok := field(m.f, r, "transition").(*hclsyntax.TupleConsExpr); ok {
				transitions += len(t.Exprs)
			}
		}
	}
	if transitions == 0 {
		p = append(p, m.where()+": no enabled lifecycle rule with transitions to cheaper classes")
	}
	if fieldText(m.f, m.expr("replication_configuration"), "role") == "" {
		p = append(p, m.where()+": no replication_configuration to the DR region")
	}
	// The policy attached is the create-only document.
	if got := m.attr("policy"); got != "data.aws_iam_policy_document.bucket.json" {
		p = append(p, fmt.Sprintf("%s: policy = %q, want data.aws_iam_policy_document.bucket.json", m.where(), got))
	}
	doc, miss := tr.one(archiveDir, "data", "aws_iam_policy_document", "bucket")
	if miss != "" {
		return append(p, miss)
	}
	createOnly := false
	for _, st := range doc.sub("statement") {
		effect, _ := str(st.expr("effect"))
		actions, _ := strs(st.expr("actions"))
		resources := st.attr("resources")
		var null, op bool
		for _, c := range st.sub("condition") {
			test, _ := str(c.expr("test"))
			variable, _ := str(c.expr("variable"))
			values, _ := strs(c.expr("values"))
			switch {
			case test == "Null" && variable == "s3:if-none-match" && reflect.DeepEqual(values, []string{"true"}):
				null = true
			case test == "Bool" && variable == "s3:ObjectCreationOperation" && reflect.DeepEqual(values, []string{"true"}):
				op = true
			}
		}
		if effect == "Deny" && reflect.DeepEqual(actions, []string{"s3:PutObject"}) && strings.Contains(resources, "events_prefix") && null && op {
			createOnly = true
		}
	}
	if !createOnly {
		p = append(p, doc.where()+": no Deny of s3:PutObject under events/ without If-None-Match (exempting multipart parts)")
	}
	// The archiver does write with If-None-Match: keep the policy only as
	// long as the code does.
	src := readFile(filepath.Join(repoRoot, "internal/s3blob/s3blob.go"))
	if !strings.Contains(src, "IfNotExist:  ifNotExist") {
		p = append(p, "internal/s3blob/s3blob.go no longer sets IfNotExist on uploads: the create-only bucket policy would refuse the archive's writes")
	}
	return p
}

// archiveGlue: the Athena table's columns are the archive's Parquet
// schema (internal/archive/row.go) in order, partitioned by dt and hour.
func archiveGlue(tr *tree) []string {
	tbl, miss := tr.one(archiveDir, "resource", "aws_glue_catalog_table", "events")
	if miss != "" {
		return []string{miss}
	}
	var p []string
	var got []string
	for _, sd := range tbl.sub("storage_descriptor") {
		for _, c := range sd.sub("columns") {
			n, _ := str(c.expr("name"))
			ty, _ := str(c.expr("type"))
			got = append(got, n+" "+ty)
		}
		for _, sdi := range sd.sub("ser_de_info") {
			if lib, _ := str(sdi.expr("serialization_library")); !strings.Contains(lib, "ParquetHiveSerDe") {
				p = append(p, tbl.where()+": serde is not Parquet")
			}
		}
	}
	want, err := parquetColumns(filepath.Join(repoRoot, "internal/archive/row.go"))
	if err != nil {
		return append(p, err.Error())
	}
	if !reflect.DeepEqual(got, want) {
		p = append(p, fmt.Sprintf("%s: columns\n got  %q\n want %q (internal/archive/row.go)", tbl.where(), got, want))
	}
	var parts []string
	for _, pk := range tbl.sub("partition_keys") {
		n, _ := str(pk.expr("name"))
		parts = append(parts, n)
	}
	if !reflect.DeepEqual(parts, []string{"dt", "hour"}) {
		p = append(p, fmt.Sprintf("%s: partitions %q, want [dt hour] (docs/archive.md)", tbl.where(), parts))
	}
	if tmpl := fieldText(tbl.f, tbl.expr("parameters"), "storage.location.template"); !strings.Contains(tmpl, "events_prefix}dt=$${dt}/hour=$${hour}/") {
		p = append(p, fmt.Sprintf("%s: storage.location.template %s does not follow events/dt=…/hour=…/", tbl.where(), tmpl))
	}
	return p
}

// parquetColumns reads the row struct's parquet tags: "name type" in
// field order, with Athena's types.
func parquetColumns(path string) ([]string, error) {
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return nil, err
	}
	var cols []string
	ast.Inspect(af, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "row" {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return false
		}
		for _, fl := range st.Fields.List {
			if fl.Tag == nil {
				continue
			}
			tag, _ := strconv.Unquote(fl.Tag.Value)
			pq := reflect.StructTag(tag).Get("parquet")
			parts := strings.Split(pq, ",")
			ty := "string"
			switch {
			case strings.Contains(pq, "timestamp("):
				ty = "timestamp"
			case fmt.Sprint(fl.Type) == "int64":
				ty = "bigint"
			}
			cols = append(cols, parts[0]+" "+ty)
		}
		return false
	})
	if len(cols) == 0 {
		return nil, fmt.Errorf("%s: no row struct with parquet tags", path)
	}
	return cols, nil
}

// rdsPolicy: Multi-AZ, encrypted, deletion protection in prod, the
// password managed by RDS.
func rdsPolicy(tr *tree) []string {
	m, miss := tr.one(envDir, "module", "db")
	if miss != "" {
		return []string{miss}
	}
	var p []string
	for k, v := range map[string]string{"multi_az": "true", "storage_encrypted": "true", "manage_master_user_password": "true"} {
		if got := m.attr(k); got != v {
			p = append(p, fmt.Sprintf("%s: %s = %q, want %s", m.where(), k, got, v))
		}
	}
	if m.attr("password") != "" {
		p = append(p, m.where()+": password set in Terraform")
	}
	switch dp := m.attr("deletion_protection"); dp {
	case "true":
	case "local.prod":
		if !prodLocal(tr) {
			p = append(p, m.where()+`: deletion_protection = local.prod, but local.prod is not var.environment == "prod"`)
		}
	default:
		p = append(p, fmt.Sprintf("%s: deletion_protection = %q, want true or local.prod", m.where(), dp))
	}
	return p
}

func prodLocal(tr *tree) bool {
	for _, l := range tr.blocks(envDir, "locals") {
		if l.attr("prod") == `var.environment == "prod"` {
			return true
		}
	}
	return false
}

// redisPolicy: cluster mode off (what Souq's client speaks), Multi-AZ
// with automatic failover and a replica, encryption in transit and at
// rest.
func redisPolicy(tr *tree) []string {
	r, miss := tr.one(envDir, "resource", "aws_elasticache_replication_group")
	if miss != "" {
		return []string{miss}
	}
	var p []string
	want := map[string]string{
		"cluster_mode":               `"disabled"`,
		"automatic_failover_enabled": "true",
		"multi_az_enabled":           "true",
		"transit_encryption_enabled": "true",
		"at_rest_encryption_enabled": "true",
		"transit_encryption_mode":    `"required"`,
	}
	for k, v := range want {
		if got := r.attr(k); got != v {
			p = append(p, fmt.Sprintf("%s: %s = %s, want %s", r.where(), k, got, v))
		}
	}
	if n := r.attr("num_node_groups"); n != "" && n != "1" {
		p = append(p, r.where()+": num_node_groups "+n+": cluster mode off has one shard")
	}
	if pg := r.attr("parameter_group_name"); strings.Contains(pg, "cluster.on") {
		p = append(p, r.where()+": parameter group "+pg+" turns cluster mode on")
	}
	if n := r.attr("num_cache_clusters"); n == "" || n == "1" {
		p = append(p, r.where()+": num_cache_clusters "+n+": Multi-AZ needs a replica")
	}
	return p
}

// The paths Souq answers per shopper (never cached) and those it serves
// the same to everyone (cached), as requests to route.
var (
	uncachedRequests = []string{
		"/api/v1/orders", "/api/v1/carts/c_1/items", "/api/v1/products", "/api/v1/queue",
		"/v1/batch", "/v1/track", "/ar/cart", "/en/cart/items", "/ar/checkout",
		"/en/checkout/done", "/ar/queue", "/en/queue/t_1", "/dashboard", "/dashboard/static/app.js",
	}
	cachedRequests  = []string{"/assets/storefront.css", "/images/products/p_1.jpg"}
	requiredNoCache = []string{"/api/*", "/v1/batch", "/*/cart*", "/*/checkout*", "/*/queue*"}
)

// cloudfrontCaching: CloudFront routes each path to the first matching
// behaviour; cart, checkout, queue, API and collector paths meet a
// CachingDisabled one, static assets and product images a
// CachingOptimized one.
func cloudfrontCaching(tr *tree) []string {
	d, miss := tr.one(edgeDir, "resource", "aws_cloudfront_distribution")
	if miss != "" {
		return []string{miss}
	}
	var p []string
	policyName := map[string]string{}
	for _, ds := range tr.blocks(edgeDir, "data", "aws_cloudfront_cache_policy") {
		n, _ := str(ds.expr("name"))
		policyName["data.aws_cloudfront_cache_policy."+ds.b.Labels[1]+".id"] = n
	}
	lists := map[string][]string{}
	for _, l := range tr.blocks(edgeDir, "locals") {
		for name, a := range l.b.Body.Attributes {
			if ss, ok := strs(a.Expr); ok {
				lists["local."+name] = ss
			}
		}
	}
	var order []behaviour
	for _, dyn := range d.sub("dynamic") {
		if dyn.b.Labels[0] != "ordered_cache_behavior" {
			continue
		}
		paths, ok := lists[dyn.attr("for_each")]
		if !ok {
			p = append(p, fmt.Sprintf("%s: for_each %s is not a local list of paths", dyn.where(), dyn.attr("for_each")))
			continue
		}
		for _, c := range dyn.sub("content") {
			if c.attr("path_pattern") != "ordered_cache_behavior.value" {
				p = append(p, c.where()+": path_pattern is not the iterated path")
			}
			for _, path := range paths {
				order = append(order, behaviour{path, policyName[c.attr("cache_policy_id")]})
			}
		}
	}
	for _, ob := range d.sub("ordered_cache_behavior") {
		pat, _ := str(ob.expr("path_pattern"))
		order = append(order, behaviour{pat, policyName[ob.attr("cache_policy_id")]})
	}
	def := ""
	for _, db := range d.sub("default_cache_behavior") {
		def = policyName[db.attr("cache_policy_id")]
	}
	if def != "Managed-CachingDisabled" {
		p = append(p, fmt.Sprintf("%s: default behaviour caches (%q): pages carry the shopper's cart", d.where(), def))
	}
	route := func(path string) (string, string) {
		for _, b := range order {
			if globMatch(b.pattern, path) {
				return b.pattern, b.policy
			}
		}
		return "default", def
	}
	for _, r := range uncachedRequests {
		if pat, pol := route(r); pol != "Managed-CachingDisabled" {
			p = append(p, fmt.Sprintf("%s: %s meets %s with cache policy %q, want Managed-CachingDisabled", d.where(), r, pat, pol))
		}
	}
	for _, r := range cachedRequests {
		if pat, pol := route(r); pol != "Managed-CachingOptimized" {
			p = append(p, fmt.Sprintf("%s: %s meets %s with cache policy %q, want Managed-CachingOptimized", d.where(), r, pat, pol))
		}
	}
	for _, want := range requiredNoCache {
		ok := false
		for _, b := range order {
			if b.pattern == want && b.policy == "Managed-CachingDisabled" {
				ok = true
			}
		}
		if !ok && !(want == "/v1/batch" && hasBehaviour(order, "/v1/*")) {
			p = append(p, fmt.Sprintf("%s: no uncached behaviour for %s", d.where(), want))
		}
	}
	return p
}

// behaviour is one CloudFront cache behaviour: its path pattern and the
// name of its cache policy.
type behaviour struct{ pattern, policy string }

func hasBehaviour(order []behaviour, pattern string) bool {
	for _, b := range order {
		if b.pattern == pattern && b.policy == "Managed-CachingDisabled" {
			return true
		}
	}
	return false
}

// readFile returns a file's text, "" when it cannot be read (the policy
// using it then reports).
func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// globMatch is CloudFront's path pattern: * matches any characters,
// slashes included; ? matches one.
func globMatch(pattern, path string) bool {
	var re strings.Builder
	re.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(path)
}

// originProtected: the load balancer's security group admits HTTPS only
// from CloudFront's origin-facing prefix list, and CloudFront sends the
// origin-verify header with a generated value.
func originProtected(tr *tree) []string {
	var p []string
	pl, miss := tr.one(envDir, "data", "aws_ec2_managed_prefix_list", "cloudfront")
	if miss != "" {
		return []string{miss}
	}
	if n, _ := str(pl.expr("name")); n != "com.amazonaws.global.cloudfront.origin-facing" {
		p = append(p, pl.where()+": not CloudFront's origin-facing prefix list: "+n)
	}
	if _, miss := tr.one(envDir, "resource", "aws_security_group", "origin"); miss != "" {
		p = append(p, miss)
	}
	fromCloudFront := 0
	for _, r := range tr.blocks(envDir, "resource", "aws_vpc_security_group_ingress_rule") {
		if r.attr("security_group_id") != "aws_security_group.origin.id" {
			continue
		}
		if r.attr("prefix_list_id") == "data.aws_ec2_managed_prefix_list.cloudfront.id" {
			fromCloudFront++
			continue
		}
		p = append(p, r.where()+": the origin's security group admits something other than CloudFront")
	}
	for _, sg := range tr.blocks(envDir, "resource", "aws_security_group", "origin") {
		if len(sg.sub("ingress")) > 0 {
			p = append(p, sg.where()+": inline ingress on the origin's security group")
		}
	}
	if fromCloudFront == 0 {
		p = append(p, "no ingress rule from CloudFront's prefix list on aws_security_group.origin")
	}
	d, miss := tr.one(edgeDir, "resource", "aws_cloudfront_distribution")
	if miss != "" {
		return append(p, miss)
	}
	header := false
	for _, o := range d.sub("origin") {
		for _, h := range o.sub("custom_header") {
			if strings.HasPrefix(h.attr("value"), "random_password.") {
				header = true
			}
		}
		for _, c := range o.sub("custom_origin_config") {
			if pol, _ := str(c.expr("origin_protocol_policy")); pol != "https-only" {
				p = append(p, c.where()+": origin_protocol_policy "+pol+", want https-only")
			}
		}
	}
	if !header {
		p = append(p, d.where()+": no origin-verify custom_header with a generated value")
	}
	return p
}

// wafPolicy: a CLOUDFRONT web ACL in us-east-1 with AWS's managed rule
// groups and per-address rate rules for checkout and the collector whose
// limits follow Souq's own defaults (README: "WAF limits").
func wafPolicy(tr *tree) []string {
	acl, miss := tr.one(edgeDir, "resource", "aws_wafv2_web_acl")
	if miss != "" {
		return []string{miss}
	}
	var p []string
	if s, _ := str(acl.expr("scope")); s != "CLOUDFRONT" {
		p = append(p, acl.where()+": scope "+s+", want CLOUDFRONT")
	}
	if acl.attr("provider") != "aws.us_east_1" {
		p = append(p, acl.where()+": provider "+acl.attr("provider")+", want aws.us_east_1")
	}
	managed := map[string]bool{}
	rate := map[string]found{}
	for _, r := range acl.sub("rule") {
		name, _ := str(r.expr("name"))
		for _, st := range r.sub("statement") {
			for _, mg := range st.sub("managed_rule_group_statement") {
				n, _ := str(mg.expr("name"))
				managed[n] = true
			}
			for _, rb := range st.sub("rate_based_statement") {
				rate[name] = rb
			}
		}
	}
	for _, g := range []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList"} {
		if !managed[g] {
			p = append(p, acl.where()+": no managed rule group "+g)
		}
	}
	rateRatePerSecond, err1 := goConst("internal/collector/ratelimit.go", "DefaultRatePerSecond")
	burst, err2 := goConst("internal/collector/ratelimit.go", "DefaultBurst")
	initial, err3 := goConst("internal/waitroom/controller.go", "DefaultInitialRate")
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			return append(p, err.Error())
		}
	}
	checks := []struct {
		rule, variable, scope string
		want                  float64
	}{
		{"collector-rate", "waf_collector_limit_per_minute", `"/v1/"`, rateRatePerSecond*60 + burst},
		{"checkout-rate", "waf_checkout_limit_per_minute", `"/api/v1/orders"`, initial * 60},
	}
	for _, c := range checks {
		rb, ok := rate[c.rule]
		if !ok {
			p = append(p, acl.where()+": no rate-based rule "+c.rule)
			continue
		}
		if rb.attr("evaluation_window_sec") != "60" {
			p = append(p, fmt.Sprintf("%s: %s evaluation_window_sec %s, want 60", acl.where(), c.rule, rb.attr("evaluation_window_sec")))
		}
		if rb.attr("aggregate_key_type") != `"IP"` {
			p = append(p, fmt.Sprintf("%s: %s aggregate_key_type %s, want \"IP\"", acl.where(), c.rule, rb.attr("aggregate_key_type")))
		}
		scope := rb.sub("scope_down_statement")
		if len(scope) != 1 || !strings.Contains(string(rb.f.src[scope[0].b.Range().Start.Byte:scope[0].b.Range().End.Byte]), c.scope) {
			p = append(p, fmt.Sprintf("%s: %s is not scoped to %s", acl.where(), c.rule, c.scope))
		}
		// The limit is a variable of the environment whose default is
		// Souq's figure.
		v, miss := tr.one(envDir, "variable", c.variable)
		if miss != "" {
			p = append(p, miss)
			continue
		}
		got, err := strconv.ParseFloat(v.attr("default"), 64)
		if err != nil || got != c.want {
			p = append(p, fmt.Sprintf("%s: default %s, want %.0f from Souq's defaults", v.where(), v.attr("default"), c.want))
		}
	}
	return p
}

// goConst reads a numeric constant of Souq's Go source.
func goConst(rel, name string) (float64, error) {
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, filepath.Join(repoRoot, rel), nil, 0)
	if err != nil {
		return 0, err
	}
	for _, d := range af.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if n.Name != name || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					return 0, fmt.Errorf("%s: %s is not a literal", rel, name)
				}
				return strconv.ParseFloat(lit.Value, 64)
			}
		}
	}
	return 0, fmt.Errorf("%s: no constant %s", rel, name)
}

var (
	secretName = regexp.MustCompile(`(?i)(password|passwd|secret|token|access_key|private_key|api_key|webhook)`)
	secretText = regexp.MustCompile(`AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|xox[baprs]-[0-9A-Za-z-]+|hooks\.slack\.com/services/`)
)

// noSecrets: no attribute named like a secret holds a literal value, and
// no file holds a key's text.
func noSecrets(tr *tree) []string {
	var p []string
	for _, f := range tr.files {
		if loc := secretText.FindIndex(f.src); loc != nil {
			p = append(p, fmt.Sprintf("%s: holds what looks like a secret near byte %d", f.path, loc[0]))
		}
		walkAttrs(f, f.body, func(a *hclsyntax.Attribute) {
			if !secretName.MatchString(a.Name) {
				return
			}
			if a.Name == "manage_master_user_password" {
				return
			}
			if v, ok := str(a.Expr); ok && v != "" {
				p = append(p, fmt.Sprintf("%s:%d: %s is a literal", f.path, a.NameRange.Start.Line, a.Name))
			}
		})
	}
	return p
}

// drPolicy: the DR module runs on a provider for a region outside the
// Gulf, replicates RDS's automated backups and receives the archive.
func drPolicy(tr *tree) []string {
	m, miss := tr.one(envDir, "module", "dr")
	if miss != "" {
		return []string{miss}
	}
	var p []string
	if got := fieldText(m.f, m.expr("providers"), "aws"); got != "aws.dr" {
		p = append(p, m.where()+": providers.aws = "+got+", want aws.dr")
	}
	v, miss := tr.one(envDir, "variable", "dr_region")
	if miss != "" {
		return append(p, miss)
	}
	region, _ := str(v.expr("default"))
	gulf := map[string]bool{"me-central-1": true, "me-south-1": true, "il-central-1": true}
	if region == "" || gulf[region] {
		p = append(p, fmt.Sprintf("%s: dr_region default %q is not outside the Gulf", v.where(), region))
	}
	if _, miss := tr.one("modules/dr/", "resource", "aws_db_instance_automated_backups_replication"); miss != "" {
		p = append(p, miss)
	}
	return p
}
