package plan

import (
	"fmt"
	"math"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// SaleZone is the time zone of the pre-scale window's cron expressions.
const SaleZone = "Asia/Dubai"

// Window is when the api is held at the peak's replicas: from the lead
// before the sale's start to the cooldown after its peak, in Asia/Dubai.
type Window struct {
	Start      string `json:"start"` // RFC 3339 in Asia/Dubai
	End        string `json:"end"`
	CronStart  string `json:"cron_start"`
	CronEnd    string `json:"cron_end"`
	Replicas   int    `json:"desired_replicas"`
	TimeZone   string `json:"timezone"`
	MinReplica int    `json:"min_replica_count"`
	MaxReplica int    `json:"max_replica_count"`
}

// ScaledObject is the part of KEDA's ScaledObject (keda.sh/v1alpha1)
// that the plan writes.
type ScaledObject struct {
	APIVersion string           `yaml:"apiVersion"`
	Kind       string           `yaml:"kind"`
	Metadata   ObjectMeta       `yaml:"metadata"`
	Spec       ScaledObjectSpec `yaml:"spec"`
}

// ObjectMeta is the object's name, namespace and labels.
type ObjectMeta struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace"`
	Labels    map[string]string `yaml:"labels,omitempty"`
}

// ScaledObjectSpec is the spec's fields used here.
type ScaledObjectSpec struct {
	ScaleTargetRef  ScaleTarget     `yaml:"scaleTargetRef"`
	MinReplicaCount int             `yaml:"minReplicaCount"`
	MaxReplicaCount int             `yaml:"maxReplicaCount"`
	Triggers        []ScaleTriggers `yaml:"triggers"`
}

// ScaleTarget names the scaled workload.
type ScaleTarget struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Name       string `yaml:"name"`
}

// ScaleTriggers is one trigger; KEDA's metadata values are strings.
type ScaleTriggers struct {
	Type     string            `yaml:"type"`
	Name     string            `yaml:"name,omitempty"`
	Metadata map[string]string `yaml:"metadata"`
}

// cron writes t as a cron expression firing at its minute once a year.
func cron(t time.Time) string {
	return fmt.Sprintf("%d %d %d %d *", t.Minute(), t.Hour(), t.Day(), int(t.Month()))
}

func saleWindow(in Inputs, api Role) Window {
	loc, err := time.LoadLocation(SaleZone)
	if err != nil {
		loc = time.FixedZone("+04", 4*3600) // Asia/Dubai has no daylight saving
	}
	start := in.SaleStart.In(loc).Add(-in.PrescaleLead).Truncate(time.Minute)
	end := in.SaleStart.In(loc).Add(time.Duration(in.PeakMinutes*float64(time.Minute)) + in.Cooldown)
	if end.Truncate(time.Minute) != end {
		end = end.Truncate(time.Minute).Add(time.Minute)
	}
	return Window{Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339), CronStart: cron(start), CronEnd: cron(end),
		Replicas: api.Pods, TimeZone: SaleZone, MinReplica: api.Floor, MaxReplica: int(math.Ceil(float64(api.Pods) * 1.5))}
}

func (w Window) object() ScaledObject {
	return ScaledObject{
		APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject",
		Metadata: ObjectMeta{Name: "souq-api", Namespace: "souq", Labels: map[string]string{"app.kubernetes.io/name": "souq", "app.kubernetes.io/component": "api"}},
		Spec: ScaledObjectSpec{
			ScaleTargetRef:  ScaleTarget{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout", Name: "souq-api"},
			MinReplicaCount: w.MinReplica, MaxReplicaCount: w.MaxReplica,
			Triggers: []ScaleTriggers{{Type: "cron", Name: "sale-prescale", Metadata: map[string]string{
				"timezone": w.TimeZone, "start": w.CronStart, "end": w.CronEnd, "desiredReplicas": fmt.Sprint(w.Replicas)}}},
		},
	}
}

const scaledObjectNote = `# souq plan: the sale's pre-scale window for the api.
# KEDA admits one ScaledObject per workload: merge this trigger (and
# maxReplicaCount) into the souq-api ScaledObject of the deployment rather
# than applying a second one.
`

func scaledObjectYAML(w Window) (string, error) {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(w.object()); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return scaledObjectNote + b.String(), nil
}
