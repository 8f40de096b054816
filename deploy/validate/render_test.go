package validate

import (
	"path/filepath"
	"sync"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// repoRoot is the repository's root, from this package's directory.
const repoRoot = "../.."

// kustomizations are the trees Argo CD syncs (deploy/argocd), relative to
// deploy/kubernetes.
var kustomizations = []string{
	"overlays/dev",
	"overlays/prod-me-central-1",
	"platform/karpenter",
}

// object is one rendered Kubernetes object, as generic JSON.
type object map[string]any

func (o object) kind() string { s, _ := o["kind"].(string); return s }
func (o object) apiVersion() string {
	s, _ := o["apiVersion"].(string)
	return s
}
func (o object) name() string {
	m, _ := o["metadata"].(map[string]any)
	s, _ := m["name"].(string)
	return s
}
func (o object) id() string { return o.kind() + "/" + o.name() }

var (
	renderOnce sync.Once
	rendered   map[string][]object
	renderErr  error
)

// renderDir builds one kustomization with the kustomize Go API.
func renderDir(dir string) ([]object, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	var objs []object
	for _, r := range resMap.Resources() {
		m, err := r.Map()
		if err != nil {
			return nil, err
		}
		objs = append(objs, object(m))
	}
	return objs, nil
}

// renderAll builds every kustomization once per test binary.
func renderAll(t *testing.T) map[string][]object {
	t.Helper()
	renderOnce.Do(func() {
		rendered = map[string][]object{}
		for _, k := range kustomizations {
			objs, err := renderDir(filepath.Join(repoRoot, "deploy/kubernetes", k))
			if err != nil {
				renderErr = err
				return
			}
			rendered[k] = objs
		}
	})
	if renderErr != nil {
		t.Fatalf("render: %v", renderErr)
	}
	return rendered
}

func TestRenderEveryOverlay(t *testing.T) {
	for k, objs := range renderAll(t) {
		if len(objs) < 2 {
			t.Errorf("%s: rendered %d objects, want the whole tree", k, len(objs))
		}
	}
	objs := renderAll(t)["overlays/prod-me-central-1"]
	want := []string{"Rollout/souq-api", "Deployment/souq-collector", "Deployment/souq-relay", "Deployment/souq-processor", "Deployment/souq-archiver", "Deployment/souq-webhooks"}
	for _, w := range want {
		if find(objs, w) == nil {
			t.Errorf("prod: no %s", w)
		}
	}
}

// find returns the object with the given kind/name, or nil.
func find(objs []object, id string) object {
	for _, o := range objs {
		if o.id() == id {
			return o
		}
	}
	return nil
}
