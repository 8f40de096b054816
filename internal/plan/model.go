package plan

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// ErrInput is a plan input out of range.
var ErrInput = errors.New("plan input")

// Inputs is the sale to plan for and the assumptions the report does not
// measure.
type Inputs struct {
	Shoppers     int64         `json:"shoppers"`            // sessions arriving in the peak
	PeakMinutes  float64       `json:"peak_minutes"`        // the peak they arrive in
	Conversion   float64       `json:"conversion"`          // share of sessions that order
	Headroom     float64       `json:"headroom"`            // capacity above demand, 0.3 for 30%
	SpotShare    float64       `json:"spot_share"`          // share of burst pods on spot nodes
	MinReplicas  int           `json:"min_replicas"`        // each role's floor, on on-demand nodes
	Region       string        `json:"region"`              //
	InstanceType string        `json:"instance_type"`       // nodes' EC2 type
	SaleStart    time.Time     `json:"sale_start,omitzero"` // zero: no pre-scale window
	PrescaleLead time.Duration `json:"prescale_lead_ns"`    // pods up this long before the start
	Cooldown     time.Duration `json:"cooldown_ns"`         // and kept this long after the peak
	Estimates    bool          `json:"estimates"`           // use labelled prices of other regions

	EventsPerSession float64       `json:"events_per_session"` // 0: one per shopper page step of the report
	EventBytes       int           `json:"event_bytes"`
	Retention        time.Duration `json:"retention_ns"`
	StreamReplicas   int           `json:"stream_replicas"`
	BaselineShare    float64       `json:"baseline_share"` // outside the peak, the share of the peak's rate

	CollectorEPS    float64 `json:"collector_events_per_second_per_pod"`
	ProcessorEPS    float64 `json:"processor_events_per_second_per_pod"`
	ArchiverEPS     float64 `json:"archiver_events_per_second"`
	RedisEPS        float64 `json:"redis_events_per_second"`
	DBOrdersPerVCPU float64 `json:"db_orders_per_second_per_vcpu"`
	DBPool          int     `json:"db_connections_per_pod"`
	DBStorageGB     float64 `json:"db_storage_gb"`
	RedisMemoryGiB  float64 `json:"redis_memory_gib"`
}

// DefaultInputs holds the defaults of everything but the sale.
func DefaultInputs() Inputs {
	return Inputs{Conversion: 0.03, Headroom: 0.3, SpotShare: 0.7, MinReplicas: 2, Region: "me-central-1", InstanceType: "m5.xlarge",
		PrescaleLead: 15 * time.Minute, Cooldown: 15 * time.Minute, EventBytes: 1024, Retention: 7 * 24 * time.Hour, StreamReplicas: 3,
		BaselineShare: 0.1, CollectorEPS: 8000, ProcessorEPS: 8000, ArchiverEPS: 15000, RedisEPS: 50000, DBOrdersPerVCPU: 150,
		DBPool: 10, DBStorageGB: 100, RedisMemoryGiB: 4}
}

// Validate reports the first input out of range.
func (in Inputs) Validate() error {
	switch {
	case in.Shoppers <= 0:
		return fmt.Errorf("%w: shoppers must be positive", ErrInput)
	case in.PeakMinutes <= 0:
		return fmt.Errorf("%w: peak minutes must be positive", ErrInput)
	case in.Conversion < 0 || in.Conversion > 1:
		return fmt.Errorf("%w: conversion is a share from 0 to 1 (0.03 for 3%%)", ErrInput)
	case in.Headroom < 0 || in.SpotShare < 0 || in.SpotShare > 1 || in.BaselineShare < 0 || in.BaselineShare > 1:
		return fmt.Errorf("%w: headroom must not be negative; spot share and baseline share are from 0 to 1", ErrInput)
	case in.MinReplicas < 1 || in.StreamReplicas < 1 || in.DBPool < 1:
		return fmt.Errorf("%w: min replicas, stream replicas and db pool must be at least 1", ErrInput)
	case in.PrescaleLead < 0 || in.Cooldown < 0 || in.Retention <= 0 || in.EventBytes <= 0 || in.EventsPerSession < 0:
		return fmt.Errorf("%w: lead and cooldown must not be negative; retention and event bytes must be positive", ErrInput)
	case in.CollectorEPS <= 0 || in.ProcessorEPS <= 0 || in.ArchiverEPS <= 0 || in.RedisEPS <= 0 || in.DBOrdersPerVCPU <= 0 || in.DBStorageGB <= 0 || in.RedisMemoryGiB <= 0:
		return fmt.Errorf("%w: per-pod and per-engine capacities and sizes must be positive", ErrInput)
	}
	return nil
}

// PodSize is a pod's CPU and memory requests.
type PodSize struct {
	MilliCPU int `json:"cpu_millicores"`
	MemMiB   int `json:"memory_mib"`
}

// requests are the pods' requests per role; the api's must be the size
// of the pods that served the report.
var requests = map[string]PodSize{
	"api": {1000, 1024}, "collector": {500, 512}, "relay": {250, 256}, "processor": {500, 512}, "archiver": {500, 1024}, "nats": {1000, 2048},
}

// Roles are Souq's roles in plan order, then the stream servers.
var Roles = []string{"api", "collector", "relay", "processor", "archiver", "nats"}

// Demand is the sale's load at its peak.
type Demand struct {
	SessionsPerSecond    float64 `json:"sessions_per_second"`
	APIRequestsPerSecond float64 `json:"api_requests_per_second"`
	OrdersPerSecond      float64 `json:"orders_per_second"`
	EventsPerSession     float64 `json:"events_per_session"`
	EventsPerSecond      float64 `json:"events_per_second"`
}

// Role is one role's pods at the peak.
type Role struct {
	Name     string  `json:"name"`
	Pods     int     `json:"pods"`
	Floor    int     `json:"floor"`
	OnDemand int     `json:"on_demand"`
	Spot     int     `json:"spot"`
	Size     PodSize `json:"requests"`
	SizedBy  string  `json:"sized_by"`
}

// NodeGroup is the nodes of one capacity type.
type NodeGroup struct {
	CapacityType string  `json:"capacity_type"` // on-demand or spot
	InstanceType string  `json:"instance_type"`
	Count        int     `json:"count"`
	PodMilliCPU  int     `json:"pods_cpu_millicores"`
	PodMemMiB    int     `json:"pods_memory_mib"`
	Price        Price   `json:"price_per_node_hour"`
	AllocCPU     float64 `json:"allocatable_vcpu_per_node"`
	AllocMemGiB  float64 `json:"allocatable_memory_gib_per_node"`
}

// Database is the RDS PostgreSQL instance.
type Database struct {
	Class          string  `json:"class"`
	VCPU           float64 `json:"vcpu"`
	MemoryGiB      float64 `json:"memory_gib"`
	MultiAZ        bool    `json:"multi_az"`
	Connections    int     `json:"connections_needed"`
	MaxConnections int     `json:"max_connections"`
	StorageGB      float64 `json:"storage_gb"`
	Price          Price   `json:"price_per_instance_hour"`
}

// Cache is the ElastiCache Redis replication group (cluster mode off).
type Cache struct {
	NodeType  string  `json:"node_type"`
	Nodes     int     `json:"nodes"`
	MemoryGiB float64 `json:"memory_gib"`
	LoadShare float64 `json:"primary_load_share"` // events/s over what one primary takes
	Price     Price   `json:"price_per_node_hour"`
}

// Stream is the NATS JetStream sizing.
type Stream struct {
	EventsPerSecond      float64 `json:"events_per_second"`
	BytesPerSecond       float64 `json:"bytes_per_second"`
	RetentionHours       float64 `json:"retention_hours"`
	StoragePerReplicaGiB float64 `json:"storage_per_replica_gib"`
	Replicas             int     `json:"replicas"`
	VolumePerReplicaGiB  int     `json:"volume_per_replica_gib"`
}

// Plan is the whole answer.
type Plan struct {
	PricesDate   string      `json:"prices_date"`
	Region       string      `json:"region"`
	Inputs       Inputs      `json:"inputs"`
	Measured     Measured    `json:"measured"`
	Demand       Demand      `json:"demand"`
	Roles        []Role      `json:"roles"`
	Nodes        []NodeGroup `json:"nodes"`
	Database     Database    `json:"database"`
	Cache        Cache       `json:"cache"`
	Stream       Stream      `json:"stream"`
	Cost         Cost        `json:"cost"`
	Window       *Window     `json:"sale_window,omitempty"`
	ScaledObject string      `json:"keda_scaled_object_yaml,omitempty"`
	Warnings     []string    `json:"warnings"`
}

func ceilDiv(a, b float64) int { return int(math.Ceil(a/b - 1e-9)) }

// Compute plans the sale in from what the report measured, priced by p.
func Compute(in Inputs, m Measured, p Prices, warnings []string) (Plan, error) {
	if err := in.Validate(); err != nil {
		return Plan{}, err
	}
	if in.Region != p.Region {
		return Plan{}, fmt.Errorf("%w: the price table is for %s, not %s (give --prices with a table for %s)", ErrInput, p.Region, in.Region, in.Region)
	}
	node, ok := instance(p.Instances, in.InstanceType)
	if !ok {
		return Plan{}, fmt.Errorf("%w: instance type %q is not in the price table", ErrInput, in.InstanceType)
	}
	pl := Plan{PricesDate: p.Date, Region: p.Region, Inputs: in, Measured: m, Warnings: append([]string{}, warnings...)}

	// Demand at the peak.
	d := &pl.Demand
	d.SessionsPerSecond = float64(in.Shoppers) / (in.PeakMinutes * 60)
	d.OrdersPerSecond = d.SessionsPerSecond * in.Conversion
	var perSession float64
	steps := slices.Sorted(maps.Keys(m.PerSession)) // one order, one sum
	for _, step := range steps {
		n := m.PerSession[step]
		switch step {
		case "events":
		case "checkout":
			if m.CheckoutPerOrder > 0 {
				perSession += m.CheckoutPerOrder * in.Conversion
			} else {
				perSession += n
			}
		default:
			perSession += n
		}
	}
	if m.CheckoutPerOrder == 0 && in.Conversion > 0 {
		pl.Warnings = append(pl.Warnings, "the report placed no orders: checkout requests are not scaled to the conversion")
	}
	d.APIRequestsPerSecond = d.SessionsPerSecond * perSession
	d.EventsPerSession = in.EventsPerSession
	if d.EventsPerSession == 0 {
		for _, step := range steps {
			n := m.PerSession[step]
			if step != "events" && step != "queue.join" && step != "queue.poll" && step != "other" && step != "cart.create" {
				d.EventsPerSession += n
			}
		}
	}
	d.EventsPerSecond = d.SessionsPerSecond*d.EventsPerSession + d.OrdersPerSecond // + one purchase event per order

	// Pods per role.
	h := 1 + in.Headroom
	floor := in.MinReplicas
	role := func(name string, pods int, by string, spotable bool) Role {
		pods = max(pods, floor)
		r := Role{Name: name, Pods: pods, Floor: floor, Size: requests[name], SizedBy: by}
		if spotable {
			r.Spot = int(math.Round(float64(pods-floor) * in.SpotShare))
		}
		r.OnDemand = pods - r.Spot
		return r
	}
	pl.Roles = []Role{
		role("api", ceilDiv(d.APIRequestsPerSecond*h, m.APIRPSPerPod), fmt.Sprintf("%.0f req/s × %.2f ÷ %.1f req/s per pod (report)", d.APIRequestsPerSecond, h, m.APIRPSPerPod), true),
		role("collector", ceilDiv(d.EventsPerSecond*h, in.CollectorEPS), fmt.Sprintf("%.0f events/s × %.2f ÷ %.0f per pod", d.EventsPerSecond, h, in.CollectorEPS), true),
		role("relay", 1, "one relay publishes at a time (advisory lock); the others stand by", false),
		role("processor", ceilDiv(d.EventsPerSecond*h, in.ProcessorEPS), fmt.Sprintf("%.0f events/s × %.2f ÷ %.0f per pod", d.EventsPerSecond, h, in.ProcessorEPS), true),
		role("archiver", 1, "one archiver holds the stream's lease at a time; the others stand by", false),
	}
	nats := Role{Name: "nats", Pods: in.StreamReplicas, Floor: in.StreamReplicas, OnDemand: in.StreamReplicas, Size: requests["nats"], SizedBy: "one server per stream replica"}
	pl.Roles = append(pl.Roles, nats)
	if d.EventsPerSecond*h > in.ArchiverEPS {
		pl.Warnings = append(pl.Warnings, fmt.Sprintf("%.0f events/s with headroom is more than one archiver's %.0f/s: the archive will lag behind during the peak and catch up after", d.EventsPerSecond*h, in.ArchiverEPS))
	}

	// Nodes: on-demand carry the floors, relay, archiver and nats; spot the rest of the burst.
	alloc := allocatable(node)
	for _, ct := range []string{"on-demand", "spot"} {
		g := NodeGroup{CapacityType: ct, InstanceType: node.Type, AllocCPU: alloc.cpu, AllocMemGiB: alloc.mem}
		for _, r := range pl.Roles {
			n := r.OnDemand
			if ct == "spot" {
				n = r.Spot
			}
			g.PodMilliCPU += n * r.Size.MilliCPU
			g.PodMemMiB += n * r.Size.MemMiB
		}
		if g.PodMilliCPU > 0 {
			g.Count = max(ceilDiv(float64(g.PodMilliCPU)/1000, alloc.cpu), ceilDiv(float64(g.PodMemMiB)/1024, alloc.mem))
		}
		if ct == "on-demand" {
			g.Price = resolve(node.OnDemand, node.Estimate, node.EstimateRegion, in.Estimates)
		} else {
			g.Price = resolve(node.Spot, nil, "", false)
		}
		pl.Nodes = append(pl.Nodes, g)
	}

	// PostgreSQL: vCPUs for the orders, connections for the pods.
	needVCPU := d.OrdersPerSecond * h / in.DBOrdersPerVCPU
	conns := (pl.Roles[0].Pods + pl.Roles[2].Pods) * in.DBPool
	db, ok := smallest(p.Databases, func(c Instance) bool { return c.VCPU >= needVCPU && maxConnections(c) >= conns })
	if !ok {
		db, _ = largest(p.Databases)
		pl.Warnings = append(pl.Warnings, fmt.Sprintf("no database class in the table has %.1f vCPUs and %d connections: %s is the largest (consider RDS Proxy or fewer connections per pod)", needVCPU, conns, db.Type))
	}
	pl.Database = Database{Class: db.Type, VCPU: db.VCPU, MemoryGiB: db.MemoryGiB, MultiAZ: true, Connections: conns, MaxConnections: maxConnections(db),
		StorageGB: in.DBStorageGB, Price: resolve(db.OnDemand, db.Estimate, db.EstimateRegion, in.Estimates)}

	// Redis: memory picks the node; one primary takes the writes.
	cache, ok := smallest(p.Caches, func(c Instance) bool { return c.MemoryGiB >= in.RedisMemoryGiB })
	if !ok {
		cache, _ = largest(p.Caches)
		pl.Warnings = append(pl.Warnings, fmt.Sprintf("no cache node in the table has %.1f GiB: %s is the largest", in.RedisMemoryGiB, cache.Type))
	}
	pl.Cache = Cache{NodeType: cache.Type, Nodes: 2, MemoryGiB: cache.MemoryGiB, LoadShare: d.EventsPerSecond * h / in.RedisEPS,
		Price: resolve(cache.OnDemand, cache.Estimate, cache.EstimateRegion, in.Estimates)}
	if pl.Cache.LoadShare > 1 {
		pl.Warnings = append(pl.Warnings, fmt.Sprintf("%.0f events/s with headroom is %.1f× what one Redis primary takes (%.0f/s): cluster mode off cannot spread the writes", d.EventsPerSecond*h, pl.Cache.LoadShare, in.RedisEPS))
	}

	// NATS JetStream: the peak for its length, the baseline for the rest of the retention.
	peak := in.PeakMinutes * 60
	ret := in.Retention.Seconds()
	bytes := float64(in.EventBytes)
	stored := d.EventsPerSecond*bytes*math.Min(peak, ret) + d.EventsPerSecond*in.BaselineShare*bytes*math.Max(0, ret-peak)
	pl.Stream = Stream{EventsPerSecond: d.EventsPerSecond, BytesPerSecond: d.EventsPerSecond * bytes, RetentionHours: in.Retention.Hours(),
		StoragePerReplicaGiB: stored / (1 << 30), Replicas: in.StreamReplicas, VolumePerReplicaGiB: ceilDiv(stored*h, 1<<30)}

	if !in.SaleStart.IsZero() {
		w := saleWindow(in, pl.Roles[0])
		pl.Window = &w
		y, err := scaledObjectYAML(w)
		if err != nil {
			return pl, err
		}
		pl.ScaledObject = y
	}
	pl.Cost = cost(pl, node, p, in)
	return pl, nil
}

type capacity struct{ cpu, mem float64 }

// allocatable is what pods may request on a node: the EKS AMI's
// kube-reserved CPU (6% of the first core, 1% of the second, 0.5% of the
// next two, 0.25% of the rest) and memory (255 MiB + 11 MiB per pod, 58
// pods at most on 4 vCPU and above, 29 below), the 100 MiB eviction
// threshold, and the DaemonSets' requests (200m, 256 MiB).
func allocatable(n Instance) capacity {
	reserved := 0.0
	for c := 1.0; c <= n.VCPU; c++ {
		switch {
		case c == 1:
			reserved += 0.06
		case c == 2:
			reserved += 0.01
		case c <= 4:
			reserved += 0.005
		default:
			reserved += 0.0025
		}
	}
	pods := 29.0
	if n.VCPU >= 4 {
		pods = 58
	}
	memMiB := 255 + 11*pods + 100 + 256
	return capacity{cpu: n.VCPU - reserved - 0.2, mem: n.MemoryGiB - memMiB/1024}
}

// maxConnections is RDS for PostgreSQL's default: LEAST(memory/9531392, 5000).
func maxConnections(c Instance) int {
	return min(int(c.MemoryGiB*(1<<30)/9531392), 5000)
}

func smallest(list []Instance, fits func(Instance) bool) (Instance, bool) {
	var best Instance
	found := false
	for _, c := range list {
		if fits(c) && (!found || c.VCPU < best.VCPU || (c.VCPU == best.VCPU && c.MemoryGiB < best.MemoryGiB)) {
			best, found = c, true
		}
	}
	return best, found
}

func largest(list []Instance) (Instance, bool) {
	var best Instance
	for _, c := range list {
		if c.VCPU > best.VCPU || (c.VCPU == best.VCPU && c.MemoryGiB > best.MemoryGiB) {
			best = c
		}
	}
	return best, len(list) > 0
}
