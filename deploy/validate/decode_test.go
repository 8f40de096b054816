package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	rollouts "github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	karpaws "github.com/aws/karpenter-provider-aws/pkg/apis"
	ec2v1 "github.com/aws/karpenter-provider-aws/pkg/apis/v1"
	keda "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	sigsjson "sigs.k8s.io/json"
	karpv1 "sigs.k8s.io/karpenter/pkg/apis/v1"
	"sigs.k8s.io/yaml"
)

// types maps apiVersion and kind to a new value of the upstream Go type.
var types = map[string]func() any{
	"v1/Namespace":                                      func() any { return &corev1.Namespace{} },
	"v1/ServiceAccount":                                 func() any { return &corev1.ServiceAccount{} },
	"v1/ConfigMap":                                      func() any { return &corev1.ConfigMap{} },
	"v1/Service":                                        func() any { return &corev1.Service{} },
	"apps/v1/Deployment":                                func() any { return &appsv1.Deployment{} },
	"policy/v1/PodDisruptionBudget":                     func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy":                func() any { return &networkingv1.NetworkPolicy{} },
	"networking.k8s.io/v1/Ingress":                      func() any { return &networkingv1.Ingress{} },
	"argoproj.io/v1alpha1/Rollout":                      func() any { return &rollouts.Rollout{} },
	"argoproj.io/v1alpha1/AnalysisTemplate":             func() any { return &rollouts.AnalysisTemplate{} },
	"keda.sh/v1alpha1/ScaledObject":                     func() any { return &keda.ScaledObject{} },
	"monitoring.coreos.com/v1/ServiceMonitor":           func() any { return &monv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule":           func() any { return &monv1.PrometheusRule{} },
	"monitoring.coreos.com/v1alpha1/AlertmanagerConfig": func() any { return &monv1alpha1.AlertmanagerConfig{} },
	"karpenter.sh/v1/NodePool":                          func() any { return &karpv1.NodePool{} },
	"karpenter.k8s.aws/v1/EC2NodeClass":                 func() any { return &ec2v1.EC2NodeClass{} },
	// No Go module of External Secrets builds with this set; a local
	// mirror of the fields used, decoded as strictly (externalsecret.go).
	"external-secrets.io/v1/ExternalSecret": func() any { return &externalSecret{} },
}

// decodeStrict decodes o into the Go type of its kind; unknown and
// duplicate fields and case mismatches fail.
func decodeStrict(o object) (any, error) {
	newT, ok := types[o.apiVersion()+"/"+o.kind()]
	if !ok {
		return nil, fmt.Errorf("%s: no Go type known for %s %s", o.id(), o.apiVersion(), o.kind())
	}
	b, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	v := newT()
	strictErrs, err := sigsjson.UnmarshalStrict(b, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.id(), err)
	}
	if len(strictErrs) > 0 {
		return nil, fmt.Errorf("%s: %v", o.id(), strictErrs)
	}
	return v, nil
}

func TestDecodeStrict(t *testing.T) {
	for k, objs := range renderAll(t) {
		for _, o := range objs {
			if _, err := decodeStrict(o); err != nil {
				t.Errorf("%s: %v", k, err)
			}
		}
	}
}

// TestDecodeStrictRejects shows that a misspelt field fails.
func TestDecodeStrictRejects(t *testing.T) {
	o := deepCopy(find(renderAll(t)["overlays/prod-me-central-1"], "Rollout/souq-api"))
	o["spec"].(map[string]any)["strategy"].(map[string]any)["blueGreen"].(map[string]any)["autoPromotionEnable"] = false
	if _, err := decodeStrict(o); err == nil {
		t.Fatal("a Rollout with spec.strategy.blueGreen.autoPromotionEnable decoded; want an unknown-field error")
	}
}

// crdSchema is one version of a CRD: its OpenAPI validator, structural
// schema and CEL rules.
type crdSchema struct {
	validator  validation.SchemaValidator
	structural *structuralschema.Structural
	cel        *cel.Validator
}

// moduleDir is where the go command keeps a module of this build.
func moduleDir(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", path, err)
	}
	return strings.TrimSpace(string(out))
}

// loadCRDs reads the CRDs the upstream modules ship, keyed by
// apiVersion/kind.
func loadCRDs(t *testing.T) map[string]crdSchema {
	t.Helper()
	var raw [][]byte
	argo := moduleDir(t, "github.com/argoproj/argo-rollouts")
	kedaDir := moduleDir(t, "github.com/kedacore/keda/v2")
	for _, f := range []string{
		filepath.Join(argo, "manifests/crds/rollout-crd.yaml"),
		filepath.Join(argo, "manifests/crds/analysis-template-crd.yaml"),
		filepath.Join(kedaDir, "config/crd/bases/keda.sh_scaledobjects.yaml"),
	} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	raw = append(raw, karpaws.NodePoolCRD, karpaws.EC2NodeClassCRD)
	out := map[string]crdSchema{}
	for _, b := range raw {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(b, &crd); err != nil {
			t.Fatalf("CRD: %v", err)
		}
		for _, v := range crd.Spec.Versions {
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			var internal apiextensions.JSONSchemaProps
			if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, &internal, nil); err != nil {
				t.Fatal(err)
			}
			sv, _, err := validation.NewSchemaValidator(&internal)
			if err != nil {
				t.Fatal(err)
			}
			ss, err := structuralschema.NewStructural(&internal)
			if err != nil {
				t.Fatalf("%s %s: structural schema: %v", crd.Name, v.Name, err)
			}
			key := crd.Spec.Group + "/" + v.Name + "/" + crd.Spec.Names.Kind
			out[key] = crdSchema{sv, ss, cel.NewValidator(ss, true, celconfig.PerCallLimit)}
		}
	}
	return out
}

// validateCRD checks o against its CRD's schema: types, enums, required
// fields, fields the schema does not know (which the API server would
// prune), and the CEL rules.
func validateCRD(s crdSchema, o object) []string {
	var errs []string
	// Integers stay int64, as the API server decodes them (CEL needs it).
	var obj map[string]any
	b, _ := json.Marshal(o)
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(b, &obj); err != nil {
		return []string{err.Error()}
	}
	for _, e := range validation.ValidateCustomResource(nil, obj, s.validator) {
		errs = append(errs, e.Error())
	}
	var pruneCopy map[string]any
	_ = sigsjson.UnmarshalCaseSensitivePreserveInts(b, &pruneCopy)
	for _, p := range pruning.PruneWithOptions(pruneCopy, s.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		errs = append(errs, "unknown field "+p)
	}
	celErrs, _ := s.cel.Validate(context.Background(), field.NewPath(""), s.structural, obj, nil, celconfig.RuntimeCELCostBudget)
	for _, e := range celErrs {
		errs = append(errs, e.Error())
	}
	return errs
}

func TestCRDSchemas(t *testing.T) {
	crds := loadCRDs(t)
	checked := 0
	for k, objs := range renderAll(t) {
		for _, o := range objs {
			s, ok := crds[o.apiVersion()+"/"+o.kind()]
			if !ok {
				continue
			}
			checked++
			for _, e := range validateCRD(s, o) {
				t.Errorf("%s: %s: %s", k, o.id(), e)
			}
		}
	}
	if checked < 8 {
		t.Errorf("checked %d objects against CRD schemas, want every Rollout, AnalysisTemplate, ScaledObject, NodePool and EC2NodeClass", checked)
	}
}

// TestCRDSchemasReject shows that the schemas and CEL rules bite: each
// mutation of a valid object must fail.
func TestCRDSchemasReject(t *testing.T) {
	crds := loadCRDs(t)
	objs := renderAll(t)
	cases := []struct {
		name, id, tree string
		mutate         func(o object)
	}{
		{"NodePool consolidateAfter not a duration", "NodePool/spot", "platform/karpenter", func(o object) {
			o["spec"].(map[string]any)["disruption"].(map[string]any)["consolidateAfter"] = "soon"
		}},
		{"EC2NodeClass without selector terms (CEL)", "EC2NodeClass/souq", "platform/karpenter", func(o object) {
			o["spec"].(map[string]any)["subnetSelectorTerms"] = []any{map[string]any{}}
		}},
		{"ScaledObject unknown field", "ScaledObject/souq-api", "overlays/prod-me-central-1", func(o object) {
			o["spec"].(map[string]any)["minReplicas"] = 3
		}},
		{"Rollout replicas a string", "Rollout/souq-api", "overlays/prod-me-central-1", func(o object) {
			o["spec"].(map[string]any)["replicas"] = "three"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := deepCopy(find(objs[c.tree], c.id))
			if o == nil {
				t.Fatalf("no %s in %s", c.id, c.tree)
			}
			s := crds[o.apiVersion()+"/"+o.kind()]
			if errs := validateCRD(s, o); len(errs) != 0 {
				t.Fatalf("valid %s fails: %v", c.id, errs)
			}
			c.mutate(o)
			if errs := validateCRD(s, o); len(errs) == 0 {
				t.Errorf("mutated %s passed its CRD schema", c.id)
			}
		})
	}
}

// deepCopy copies an object through JSON.
func deepCopy(o object) object {
	if o == nil {
		return nil
	}
	b, _ := json.Marshal(o)
	var c object
	_ = json.Unmarshal(b, &c)
	return c
}
