package validate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// application mirrors the fields of Argo CD's Application
// (argoproj.io/v1alpha1) this tree uses; Argo CD's own module does not
// build with this module's versions, so a field outside these fails the
// strict decode instead.
type application struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Project string `json:"project"`
		Source  struct {
			RepoURL        string `json:"repoURL"`
			TargetRevision string `json:"targetRevision"`
			Path           string `json:"path"`
		} `json:"source"`
		Destination struct {
			Server    string `json:"server"`
			Namespace string `json:"namespace"`
		} `json:"destination"`
		SyncPolicy struct {
			Automated struct {
				Prune    bool `json:"prune"`
				SelfHeal bool `json:"selfHeal"`
			} `json:"automated"`
			SyncOptions []string `json:"syncOptions"`
		} `json:"syncPolicy"`
		IgnoreDifferences []struct {
			Group        string   `json:"group"`
			Kind         string   `json:"kind"`
			JSONPointers []string `json:"jsonPointers"`
		} `json:"ignoreDifferences"`
	} `json:"spec"`
}

// TestArgoCDApplications checks each Application points at a tree that
// renders, and that Argo CD leaves alone the replicas of every workload a
// ScaledObject scales.
func TestArgoCDApplications(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "deploy/argocd/*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	apps := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(b, &tm); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if tm.Kind != "Application" {
			continue
		}
		apps++
		var app application
		if err := yaml.UnmarshalStrict(b, &app); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		tree, ok := strings.CutPrefix(app.Spec.Source.Path, "deploy/kubernetes/")
		objs, rendered := renderAll(t)[tree]
		if !ok || !rendered {
			t.Errorf("%s: path %q is not a tree this package renders", f, app.Spec.Source.Path)
			continue
		}
		ignored := map[string]bool{}
		for _, d := range app.Spec.IgnoreDifferences {
			for _, p := range d.JSONPointers {
				if p == "/spec/replicas" {
					ignored[d.Kind] = true
				}
			}
		}
		for _, o := range objs {
			if o.kind() != "ScaledObject" {
				continue
			}
			ref := o["spec"].(map[string]any)["scaleTargetRef"].(map[string]any)
			kind, _ := ref["kind"].(string)
			if !ignored[kind] {
				t.Errorf("%s: %s scales a %s whose /spec/replicas Argo CD does not ignore", f, o.id(), kind)
			}
		}
	}
	if apps < 3 {
		t.Errorf("found %d Applications, want dev, prod and karpenter", apps)
	}
}
