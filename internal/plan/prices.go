package plan

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

//go:embed prices.json
var embeddedPrices []byte

// Prices is a price table: its date, region and currency, and each price
// with its source. A price not known for the region is null.
type Prices struct {
	Date          string     `json:"date"`
	Currency      string     `json:"currency"`
	Region        string     `json:"region"`
	Note          string     `json:"note"`
	OpenCostRatio Ratio      `json:"opencost_ratio"`
	Instances     []Instance `json:"instances"`
	Databases     []Instance `json:"databases"`
	Caches        []Instance `json:"caches"`
	Services      []Service  `json:"services"`
}

// Ratio is the relative price of a vCPU-hour and a GiB-hour of memory
// that splits a node's price between CPU and RAM (OpenCost's defaults).
type Ratio struct {
	CPUPerVCPUHour float64 `json:"cpu_per_vcpu_hour"`
	RAMPerGiBHour  float64 `json:"ram_per_gib_hour"`
	Source         string  `json:"source"`
}

// Instance is a machine class: an EC2 instance type, an RDS class or an
// ElastiCache node type, priced per hour.
type Instance struct {
	Type           string   `json:"type"`
	VCPU           float64  `json:"vcpu"`
	MemoryGiB      float64  `json:"memory_gib"`
	OnDemand       *float64 `json:"on_demand_usd"`
	Spot           *float64 `json:"spot_usd,omitempty"`
	Estimate       *float64 `json:"estimate_usd,omitempty"`
	EstimateRegion string   `json:"estimate_region,omitempty"`
	Source         string   `json:"source"`
}

// Service is a flat-rate service price, per its unit.
type Service struct {
	Name           string   `json:"name"`
	Unit           string   `json:"unit"`
	USD            *float64 `json:"usd"`
	Estimate       *float64 `json:"estimate_usd,omitempty"`
	EstimateRegion string   `json:"estimate_region,omitempty"`
	Source         string   `json:"source"`
}

// ErrPrices is a price table that cannot be used.
var ErrPrices = errors.New("price table")

// DefaultPrices is the table kept in the repository.
func DefaultPrices() Prices {
	p, err := parsePrices(embeddedPrices)
	if err != nil {
		panic(err) // the embedded table is checked by the tests
	}
	return p
}

// ReadPrices reads a price table of the embedded table's format.
func ReadPrices(path string) (Prices, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Prices{}, fmt.Errorf("%w: %v", ErrPrices, err)
	}
	return parsePrices(b)
}

func parsePrices(b []byte) (Prices, error) {
	var p Prices
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("%w: %v", ErrPrices, err)
	}
	if p.Region == "" || p.Date == "" || p.OpenCostRatio.CPUPerVCPUHour <= 0 || p.OpenCostRatio.RAMPerGiBHour <= 0 || len(p.Instances) == 0 {
		return p, fmt.Errorf("%w: a table needs a region, a date, the OpenCost CPU/RAM ratio and instance types", ErrPrices)
	}
	for _, list := range [][]Instance{p.Instances, p.Databases, p.Caches} {
		for _, in := range list {
			if in.Type == "" || in.VCPU <= 0 || in.MemoryGiB <= 0 {
				return p, fmt.Errorf("%w: %q needs a type, vCPUs and memory", ErrPrices, in.Type)
			}
			for _, v := range []*float64{in.OnDemand, in.Spot, in.Estimate} {
				if v != nil && *v < 0 {
					return p, fmt.Errorf("%w: %s has a negative price", ErrPrices, in.Type)
				}
			}
		}
	}
	return p, nil
}

// Price is a price as the plan uses it: known for the region, an
// estimate from another region (labelled), or unknown.
type Price struct {
	USD    *float64 `json:"usd"`
	Status string   `json:"status"` // "known", "estimate from <region>", "unknown"
}

func resolve(v, est *float64, estRegion string, estimates bool) Price {
	switch {
	case v != nil:
		return Price{USD: v, Status: "known"}
	case estimates && est != nil:
		return Price{USD: est, Status: "estimate from " + estRegion}
	}
	return Price{Status: "unknown"}
}

// instance finds a type in list.
func instance(list []Instance, typ string) (Instance, bool) {
	for _, in := range list {
		if in.Type == typ {
			return in, true
		}
	}
	return Instance{}, false
}

func (p Prices) service(name string, estimates bool) Price {
	for _, s := range p.Services {
		if s.Name == name {
			return resolve(s.USD, s.Estimate, s.EstimateRegion, estimates)
		}
	}
	return Price{Status: "unknown"}
}
