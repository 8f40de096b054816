package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the plan as indented JSON.
func (pl Plan) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(pl, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func usd(v *float64) string {
	if v == nil {
		return "price unknown"
	}
	return fmt.Sprintf("$%.2f", *v)
}

func priceText(p Price) string {
	switch {
	case p.USD == nil:
		return "price unknown"
	case p.Status == "known":
		return fmt.Sprintf("$%.4f", *p.USD)
	}
	return fmt.Sprintf("$%.4f (%s)", *p.USD, p.Status)
}

// WriteText writes the plan for a person.
func (pl Plan) WriteText(w io.Writer) {
	in, m, d := pl.Inputs, pl.Measured, pl.Demand
	fmt.Fprintf(w, "souq plan: %d shoppers over %g minutes, conversion %.2f%%, headroom %.0f%%, %s (prices of %s)\n",
		in.Shoppers, in.PeakMinutes, in.Conversion*100, in.Headroom*100, pl.Region, pl.PricesDate)
	fmt.Fprintf(w, "report: %s, profile %s: %.1f req/s over the best %d s at p99 ≤ %g ms and failures ≤ %.2f%% (%d of %d seconds at the objectives), %d pod(s)\n",
		m.Target, m.Profile, m.WindowRPS, m.Window, m.SLOP99Ms, m.SLOErrors*100, m.GoodSeconds, m.Seconds, m.ReportPods)
	fmt.Fprintf(w, "  one api pod: %.1f req/s; measured conversion %.2f%%, %.2f checkout requests per order\n", m.APIRPSPerPod, m.Conversion*100, m.CheckoutPerOrder)
	fmt.Fprintf(w, "demand at the peak: %.1f sessions/s, %.0f api req/s, %.1f orders/s, %.0f events/s (%.1f per session + one per order)\n\n",
		d.SessionsPerSecond, d.APIRequestsPerSecond, d.OrdersPerSecond, d.EventsPerSecond, d.EventsPerSession)

	fmt.Fprintf(w, "%-10s %5s %6s %10s %5s %13s  %s\n", "role", "pods", "floor", "on-demand", "spot", "requests", "sized by")
	for _, r := range pl.Roles {
		fmt.Fprintf(w, "%-10s %5d %6d %10d %5d %6dm/%4dMi  %s\n", r.Name, r.Pods, r.Floor, r.OnDemand, r.Spot, r.Size.MilliCPU, r.Size.MemMiB, r.SizedBy)
	}
	fmt.Fprintln(w)
	for _, g := range pl.Nodes {
		fmt.Fprintf(w, "nodes %-9s %3d × %s (pods request %.1f vCPU, %.1f GiB; %.2f vCPU, %.1f GiB allocatable each), %s per node-hour\n",
			g.CapacityType, g.Count, g.InstanceType, float64(g.PodMilliCPU)/1000, float64(g.PodMemMiB)/1024, g.AllocCPU, g.AllocMemGiB, priceText(g.Price))
	}
	db := pl.Database
	fmt.Fprintf(w, "postgres  RDS %s Multi-AZ (%g vCPU, %g GiB), %d connections of %d, %g GB gp3, %s per instance-hour\n",
		db.Class, db.VCPU, db.MemoryGiB, db.Connections, db.MaxConnections, db.StorageGB, priceText(db.Price))
	c := pl.Cache
	fmt.Fprintf(w, "redis     ElastiCache %d × %s (%g GiB; primary at %.0f%% of its event rate), %s per node-hour\n",
		c.Nodes, c.NodeType, c.MemoryGiB, c.LoadShare*100, priceText(c.Price))
	s := pl.Stream
	fmt.Fprintf(w, "nats      %.0f events/s, %.2f MB/s; %g h retention: %.1f GiB per replica, %d replicas, %d GiB volumes\n\n",
		s.EventsPerSecond, s.BytesPerSecond/1e6, s.RetentionHours, s.StoragePerReplicaGiB, s.Replicas, s.VolumePerReplicaGiB)

	fmt.Fprintf(w, "%-44s %10s %-14s %-34s %s\n", "cost at the peak", "quantity", "unit", "price", "per hour")
	for _, it := range pl.Cost.Items {
		fmt.Fprintf(w, "%-44s %10g %-14s %-34s %s\n", it.What, it.Quantity, it.Unit, priceText(it.Price), usd(it.USDPerHour))
	}
	var alloc []string
	for _, a := range pl.Cost.Allocation {
		alloc = append(alloc, a.Role+" "+usd(a.USDPerHour))
	}
	fmt.Fprintf(w, "nodes allocated per role (OpenCost): %s; idle %s\n", strings.Join(alloc, ", "), usd(pl.Cost.IdleUSDPerHour))
	fmt.Fprintf(w, "total: %s per hour, %s per sale (%.2f h)", usd(pl.Cost.USDPerHour), usd(pl.Cost.SaleUSD), pl.Cost.SaleHours)
	if len(pl.Cost.Unknown) > 0 {
		fmt.Fprintf(w, "; priced lines only: $%.2f per hour; price unknown: %s", pl.Cost.KnownUSDPerHour, strings.Join(pl.Cost.Unknown, ", "))
	}
	fmt.Fprintln(w)
	if len(pl.Cost.Estimated) > 0 {
		fmt.Fprintf(w, "estimated from another region (not %s prices): %s\n", pl.Region, strings.Join(pl.Cost.Estimated, ", "))
	}
	if pl.Window != nil {
		fmt.Fprintf(w, "\npre-scale window (%s): %s to %s, %d api replicas\n", pl.Window.TimeZone, pl.Window.Start, pl.Window.End, pl.Window.Replicas)
		fmt.Fprint(w, pl.ScaledObject)
	} else {
		fmt.Fprintln(w, "\nno --sale-start: no pre-scale window")
	}
	for _, x := range pl.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
}
