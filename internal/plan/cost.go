package plan

import "fmt"

// Cost is the peak's cost per hour and the sale's, with each line's price
// status. A total is given only when every line's price is (known or, with
// estimates, estimated); KnownUSDPerHour sums what is.
type Cost struct {
	Items           []CostItem   `json:"items"`
	Allocation      []Allocation `json:"allocation"`
	IdleUSDPerHour  *float64     `json:"idle_usd_per_hour"`
	USDPerHour      *float64     `json:"usd_per_hour"`
	KnownUSDPerHour float64      `json:"priced_usd_per_hour"`
	Unknown         []string     `json:"price_unknown"`
	Estimated       []string     `json:"price_estimated"`
	SaleHours       float64      `json:"sale_hours"`
	SaleUSD         *float64     `json:"usd_per_sale"`
}

// CostItem is one line: quantity × price.
type CostItem struct {
	What       string   `json:"what"`
	Quantity   float64  `json:"quantity"`
	Unit       string   `json:"unit"`
	Price      Price    `json:"price"`
	USDPerHour *float64 `json:"usd_per_hour"`
}

// Allocation is a role's share of the nodes' cost, as OpenCost allocates
// it: max(request, usage) of CPU and memory at the node's price split
// between CPU and RAM. At plan time usage is taken to be at most the
// request, so the request is what is charged.
type Allocation struct {
	Role       string   `json:"role"`
	USDPerHour *float64 `json:"usd_per_hour"`
}

const hoursPerMonth = 730

func ptr(v float64) *float64 { return &v }

// rates splits a node's hourly price into a price per vCPU-hour and per
// GiB-hour, keeping OpenCost's CPU:RAM ratio and summing to the node's
// price (OpenCost specification, Appendix A).
func rates(node Instance, price float64, r Ratio) (cpu, ram float64) {
	base := node.VCPU*r.CPUPerVCPUHour + node.MemoryGiB*r.RAMPerGiBHour
	scale := price / base
	return r.CPUPerVCPUHour * scale, r.RAMPerGiBHour * scale
}

func cost(pl Plan, node Instance, p Prices, in Inputs) Cost {
	var c Cost
	add := func(what string, qty float64, unit string, pr Price, perHour float64) {
		it := CostItem{What: what, Quantity: qty, Unit: unit, Price: pr}
		if qty == 0 {
			it.USDPerHour = ptr(0)
		} else if pr.USD != nil {
			it.USDPerHour = ptr(qty * *pr.USD * perHour)
		}
		switch {
		case it.USDPerHour == nil:
			c.Unknown = append(c.Unknown, what)
		case pr.Status != "known" && qty > 0:
			c.Estimated = append(c.Estimated, what+" ("+pr.Status+")")
		}
		c.Items = append(c.Items, it)
	}
	for _, g := range pl.Nodes {
		add(fmt.Sprintf("EC2 %s %s nodes", g.InstanceType, g.CapacityType), float64(g.Count), "node-hour", g.Price, 1)
	}
	add("EKS control plane", 1, "cluster-hour", p.service("eks_control_plane", in.Estimates), 1)
	add(fmt.Sprintf("RDS PostgreSQL %s Multi-AZ", pl.Database.Class), 2, "instance-hour", pl.Database.Price, 1)
	add("RDS gp3 storage (primary and standby)", 2*pl.Database.StorageGB, "GB-month", p.service("rds_gp3_storage", in.Estimates), 1.0/hoursPerMonth)
	add(fmt.Sprintf("ElastiCache %s", pl.Cache.NodeType), float64(pl.Cache.Nodes), "node-hour", pl.Cache.Price, 1)
	add("NATS gp3 volumes", float64(pl.Stream.Replicas*pl.Stream.VolumePerReplicaGiB), "GB-month", p.service("ebs_gp3_storage", in.Estimates), 1.0/hoursPerMonth)
	add("NLB", 1, "hour", p.service("nlb", in.Estimates), 1)
	add("NAT gateways (one per zone)", 3, "hour", p.service("nat_gateway", in.Estimates), 1)
	total := 0.0
	for _, it := range c.Items {
		if it.USDPerHour != nil {
			total += *it.USDPerHour
		}
	}
	c.KnownUSDPerHour = total
	c.SaleHours = (in.PrescaleLead.Hours() + in.PeakMinutes/60 + in.Cooldown.Hours())
	if len(c.Unknown) == 0 {
		c.USDPerHour = ptr(total)
		c.SaleUSD = ptr(total * c.SaleHours)
	}

	// OpenCost allocation of the nodes to the roles, and the idle rest.
	nodesCost, allocated, complete := 0.0, 0.0, true
	perRole := map[string]float64{}
	for _, g := range pl.Nodes {
		if g.Count == 0 {
			continue
		}
		if g.Price.USD == nil {
			complete = false
			continue
		}
		cpuRate, ramRate := rates(node, *g.Price.USD, p.OpenCostRatio)
		nodesCost += float64(g.Count) * *g.Price.USD
		for _, r := range pl.Roles {
			n := r.OnDemand
			if g.CapacityType == "spot" {
				n = r.Spot
			}
			v := float64(n) * (float64(r.Size.MilliCPU)/1000*cpuRate + float64(r.Size.MemMiB)/1024*ramRate)
			perRole[r.Name] += v
			allocated += v
		}
	}
	for _, r := range pl.Roles {
		a := Allocation{Role: r.Name}
		if complete {
			a.USDPerHour = ptr(perRole[r.Name])
		}
		c.Allocation = append(c.Allocation, a)
	}
	if complete {
		c.IdleUSDPerHour = ptr(nodesCost - allocated)
	}
	return c
}
