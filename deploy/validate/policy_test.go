package validate

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	rollouts "github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// workload is a rendered pod controller: a Deployment or the Rollout.
type workload struct {
	id       string
	selector *metav1.LabelSelector
	template corev1.PodTemplateSpec
}

func workloads(t *testing.T, objs []object) []workload {
	t.Helper()
	var ws []workload
	for _, o := range objs {
		switch o.kind() {
		case "Deployment", "Rollout":
			v, err := decodeStrict(o)
			if err != nil {
				t.Fatal(err)
			}
			switch w := v.(type) {
			case *appsv1.Deployment:
				ws = append(ws, workload{o.id(), w.Spec.Selector, w.Spec.Template})
			case *rollouts.Rollout:
				ws = append(ws, workload{o.id(), w.Spec.Selector, w.Spec.Template})
			}
		}
	}
	return ws
}

// shutdownTimeout is --shutdown-timeout as the pod sets it.
func shutdownTimeout(objs []object) time.Duration {
	cm := find(objs, "ConfigMap/souq-config")
	if cm == nil {
		return 15 * time.Second
	}
	d, err := time.ParseDuration(fmt.Sprint(cm["data"].(map[string]any)["SOUQ_SHUTDOWN_TIMEOUT"]))
	if err != nil {
		return 15 * time.Second
	}
	return d
}

// checkPolicies returns every broken promise of docs/deploy.md in one
// rendered overlay.
func checkPolicies(t *testing.T, objs []object) []string {
	t.Helper()
	var errs []string
	bad := func(id, f string, a ...any) { errs = append(errs, id+": "+fmt.Sprintf(f, a...)) }
	var pdbs []*policyv1.PodDisruptionBudget
	for _, o := range objs {
		if o.kind() == "PodDisruptionBudget" {
			v, err := decodeStrict(o)
			if err != nil {
				t.Fatal(err)
			}
			pdbs = append(pdbs, v.(*policyv1.PodDisruptionBudget))
		}
		if o.kind() == "Secret" {
			bad(o.id(), "a Secret in the tree: secrets come from External Secrets")
		}
		if o.kind() == "HorizontalPodAutoscaler" {
			bad(o.id(), "an HPA: KEDA owns the HPAs")
		}
	}
	shutdown := shutdownTimeout(objs)
	ws := workloads(t, objs)
	// api, collector, relay, processor, archiver, notifier, webhooks
	if len(ws) != 7 {
		bad("tree", "%d workloads, want one per role (7)", len(ws))
	}
	for _, w := range ws {
		sel, err := metav1.LabelSelectorAsSelector(w.selector)
		if err != nil || sel.Empty() {
			bad(w.id, "selector %v: %v", w.selector, err)
			continue
		}
		podLabels := labels.Set(w.template.Labels)
		if !sel.Matches(podLabels) {
			bad(w.id, "selector %v does not match the pod labels %v", w.selector, w.template.Labels)
		}
		for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/component", "app.kubernetes.io/part-of"} {
			if w.template.Labels[k] == "" {
				bad(w.id, "pod label %s missing", k)
			}
		}
		spec := w.template.Spec
		psc := spec.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			bad(w.id, "pod securityContext must set runAsNonRoot and seccomp RuntimeDefault")
		}
		if spec.TerminationGracePeriodSeconds == nil {
			bad(w.id, "no terminationGracePeriodSeconds")
		}
		zones, hosts := false, false
		for _, c := range spec.TopologySpreadConstraints {
			s, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
			if err != nil || !s.Matches(podLabels) {
				bad(w.id, "topology spread on %s selects other pods", c.TopologyKey)
			}
			zones = zones || c.TopologyKey == "topology.kubernetes.io/zone"
			hosts = hosts || c.TopologyKey == "kubernetes.io/hostname"
		}
		if !zones || !hosts {
			bad(w.id, "topology spread across zones and nodes missing")
		}
		if len(spec.Containers) == 0 {
			bad(w.id, "no container")
		}
		for _, c := range spec.Containers {
			id := w.id + "/" + c.Name
			probe := func(name string, p *corev1.Probe, path string) {
				if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path {
					bad(id, "%s probe must GET %s", name, path)
				}
			}
			probe("liveness", c.LivenessProbe, "/livez")
			probe("readiness", c.ReadinessProbe, "/readyz")
			if c.StartupProbe == nil {
				bad(id, "no startup probe")
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[r]; !ok {
					bad(id, "no %s request", r)
				}
				if _, ok := c.Resources.Limits[r]; !ok {
					bad(id, "no %s limit", r)
				}
			}
			sc := c.SecurityContext
			if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
				sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil ||
				len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" ||
				sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				bad(id, "securityContext must set runAsNonRoot, readOnlyRootFilesystem, no privilege escalation, drop ALL, seccomp RuntimeDefault")
			}
			var preStop time.Duration
			if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
				bad(id, "no preStop sleep")
			} else {
				preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
				if preStop < 5*time.Second {
					bad(id, "preStop sleep %v is shorter than the endpoint's removal takes to reach the gateway (5s)", preStop)
				}
			}
			if spec.TerminationGracePeriodSeconds != nil {
				grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
				if grace < preStop+shutdown {
					bad(id, "terminationGracePeriodSeconds %v < preStop %v + shutdown timeout %v", grace, preStop, shutdown)
				}
			}
			for _, e := range c.Env {
				if e.Value != "" && strings.HasPrefix(e.Name, "SOUQ_") && isSecretVar(e.Name) {
					bad(id, "%s has a literal value: secrets come from the souq-secrets Secret", e.Name)
				}
			}
		}
		covered := 0
		for _, p := range pdbs {
			s, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
			if err == nil && !s.Empty() && s.Matches(podLabels) {
				covered++
			}
		}
		if covered != 1 {
			bad(w.id, "%d PodDisruptionBudgets select its pods, want 1", covered)
		}
	}
	for _, o := range objs {
		if o.kind() != "Service" {
			continue
		}
		v, _ := decodeStrict(o)
		svc := v.(*corev1.Service)
		matched := false
		for _, w := range ws {
			if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(w.template.Labels)) {
				matched = true
			}
		}
		if !matched {
			bad(o.id(), "selector %v matches no workload's pods", svc.Spec.Selector)
		}
	}
	for _, o := range objs {
		if o.kind() == "ConfigMap" && o.name() == "souq-config" {
			for k := range o["data"].(map[string]any) {
				if isSecretVar(k) {
					bad(o.id(), "%s is a secret: it belongs in the souq-secrets Secret", k)
				}
			}
		}
	}
	return errs
}

// isSecretVar reports whether a SOUQ_ variable holds a secret.
func isSecretVar(name string) bool {
	switch name {
	case "SOUQ_DATABASE", "SOUQ_ADMIN_TOKEN", "SOUQ_WRITE_KEY", "SOUQ_WAITROOM_SECRET", "SOUQ_STRIPE_SECRET_KEY", "SOUQ_STRIPE_WEBHOOK_SECRET":
		return true
	}
	return false
}

func TestPolicies(t *testing.T) {
	for _, k := range []string{"overlays/dev", "overlays/prod-me-central-1"} {
		for _, e := range checkPolicies(t, renderAll(t)[k]) {
			t.Errorf("%s: %s", k, e)
		}
	}
}

// TestPoliciesCatchBrokenManifests mutates a copy of the prod overlay and
// wants each mutation caught.
func TestPoliciesCatchBrokenManifests(t *testing.T) {
	container := func(o object) map[string]any {
		return o["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	}
	podSpec := func(o object) map[string]any {
		return o["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	}
	cases := []struct {
		name   string
		id     string
		mutate func(o object)
	}{
		{"no readiness probe", "Deployment/souq-relay", func(o object) { delete(container(o), "readinessProbe") }},
		{"no memory limit", "Deployment/souq-processor", func(o object) {
			delete(container(o)["resources"].(map[string]any)["limits"].(map[string]any), "memory")
		}},
		{"writable root filesystem", "Rollout/souq-api", func(o object) {
			container(o)["securityContext"].(map[string]any)["readOnlyRootFilesystem"] = false
		}},
		{"grace shorter than drain", "Deployment/souq-collector", func(o object) { podSpec(o)["terminationGracePeriodSeconds"] = 10 }},
		{"no zone spread", "Deployment/souq-archiver", func(o object) { delete(podSpec(o), "topologySpreadConstraints") }},
		{"selector misses the pods", "Deployment/souq-relay", func(o object) {
			o["spec"].(map[string]any)["selector"].(map[string]any)["matchLabels"].(map[string]any)["app.kubernetes.io/component"] = "relayy"
		}},
		{"secret in plain env", "Deployment/souq-relay", func(o object) {
			container(o)["env"] = append(container(o)["env"].([]any), map[string]any{"name": "SOUQ_ADMIN_TOKEN", "value": "x"})
		}},
		{"no PDB", "PodDisruptionBudget/souq-api", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var objs []object
			for _, o := range renderAll(t)["overlays/prod-me-central-1"] {
				if o.id() == c.id && c.mutate == nil {
					continue // removed
				}
				o = deepCopy(o)
				if o.id() == c.id {
					c.mutate(o)
				}
				objs = append(objs, o)
			}
			if errs := checkPolicies(t, objs); len(errs) == 0 {
				t.Errorf("mutation %q passed the policies", c.name)
			}
		})
	}
}

var digestRef = regexp.MustCompile(`^[^@:]+(:[^@]+)?@sha256:[0-9a-f]{64}$`)

func TestProdPinsImagesByDigest(t *testing.T) {
	for _, w := range workloads(t, renderAll(t)["overlays/prod-me-central-1"]) {
		for _, c := range w.template.Spec.Containers {
			if !digestRef.MatchString(c.Image) {
				t.Errorf("%s/%s: image %q is not pinned by digest", w.id, c.Name, c.Image)
			}
		}
	}
	if digestRef.MatchString("souq:v1.2.3") {
		t.Fatal("the digest check accepts a tag")
	}
}

// TestNoSecretValuesInTree looks through every file under deploy/ for
// Secret objects with data and for values that look like credentials.
func TestNoSecretValuesInTree(t *testing.T) {
	patterns := map[string]*regexp.Regexp{
		"Secret object":     regexp.MustCompile(`(?m)^kind:\s*Secret\s*$`),
		"Stripe key":        regexp.MustCompile(`\b(sk|rk)_(live|test)_[0-9A-Za-z]{8,}|whsec_[0-9A-Za-z]{8,}`),
		"AWS access key":    regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`),
		"Slack webhook":     regexp.MustCompile(`hooks\.slack\.com/services/[A-Za-z0-9/]+`),
		"URL with password": regexp.MustCompile(`[a-z]+://[^/\s:@]+:[^/\s@]+@`),
		"private key":       regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),
	}
	files := 0
	err := filepath.Walk(filepath.Join(repoRoot, "deploy"), func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		// deploy/terraform is checked by its own module's tests.
		if info.IsDir() && (info.Name() == ".terraform" || info.Name() == "terraform") {
			return filepath.SkipDir
		}
		ext := filepath.Ext(p)
		if info.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json" && ext != ".tf" && ext != ".tfvars") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for what, re := range patterns {
			if loc := re.FindIndex(b); loc != nil {
				t.Errorf("%s: %s: %q", p, what, b[loc[0]:loc[1]])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Errorf("looked at %d files, want the whole tree", files)
	}
}

// TestEnvIsSouqFlags checks that every SOUQ_ variable the manifests set is
// the environment twin of a flag of `souq serve`, from its own help.
func TestEnvIsSouqFlags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "souq")
	build := exec.Command("go", "build", "-o", bin, "./cmd/souq")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, _ := exec.Command(bin, "serve", "-h").CombinedOutput()
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`\(env (SOUQ_[A-Z0-9_]+)`).FindAllStringSubmatch(string(out), -1) {
		known[m[1]] = true
	}
	if len(known) < 20 || !known["SOUQ_ROLES"] {
		t.Fatalf("read %d variables from souq serve -h, want its flags'", len(known))
	}
	seen := 0
	for k, objs := range renderAll(t) {
		for _, o := range objs {
			if o.kind() == "ConfigMap" && o.name() == "souq-config" {
				for name := range o["data"].(map[string]any) {
					seen++
					if !known[name] {
						t.Errorf("%s: %s sets %s, which is no flag of souq serve", k, o.id(), name)
					}
				}
			}
			if o.kind() == "ExternalSecret" && o.name() == "souq-secrets" {
				for _, d := range o["spec"].(map[string]any)["data"].([]any) {
					name := d.(map[string]any)["secretKey"].(string)
					seen++
					if !known[name] {
						t.Errorf("%s: %s provides %s, which is no flag of souq serve", k, o.id(), name)
					}
				}
			}
		}
		for _, w := range workloads(t, objs) {
			for _, c := range w.template.Spec.Containers {
				for _, e := range c.Env {
					if strings.HasPrefix(e.Name, "SOUQ_") {
						seen++
						if !known[e.Name] {
							t.Errorf("%s: %s sets %s, which is no flag of souq serve", k, w.id, e.Name)
						}
					}
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("no SOUQ_ variable found in the manifests")
	}
	if known["SOUQ_NO_SUCH_FLAG"] {
		t.Fatal("the flag list accepts anything")
	}
}
