package main

import (
	"fmt"
	"slices"
	"strings"
)

// role is a part of Souq a process may run; see roleTable.
type role string

// The roles, in the order they are listed.
const (
	roleAPI       role = "api"
	roleCollector role = "collector"
	roleRelay     role = "relay"
	roleProcessor role = "processor"
	roleArchiver  role = "archiver"
	roleNotifier  role = "notifier"
	roleWebhooks  role = "webhooks"
)

// roleTable says, for each role, what it runs and what it needs: the
// engines it opens, which /readyz checks. Every role serves /livez,
// /readyz and /metrics.
var roleTable = []roleInfo{
	{roleAPI, "shop API, storefront and dashboard; housekeeping of carts and idempotency keys", []string{"database", "stream", "hot store", "archive"}},
	{roleCollector, "behaviour events at /v1/batch, appended to the stream; with --hot, one rate limit over every replica", []string{"stream"}},
	{roleRelay, "the outbox relay: committed orders' events to the stream; outbox pruning", []string{"database", "stream"}},
	{roleProcessor, "the stream's events into the hot aggregates", []string{"stream", "hot store"}},
	{roleArchiver, "the stream's events into the Parquet archive (one replica at a time, under a lease)", []string{"stream", "archive"}},
	{roleNotifier, "order confirmation e-mails over SMTP (--smtp-url; off without it), from the stream's order events", []string{"database", "stream"}},
	{roleWebhooks, "webhooks to the merchant's endpoints: the stream's order events into deliveries, and their sending (docs/webhooks.md)", []string{"database", "stream"}},
}

// roleInfo is a row of roleTable.
type roleInfo struct {
	name  role
	runs  string
	needs []string // "database", "stream", "hot store", "archive"
}

// roles is the set of roles a process runs.
type roles map[role]bool

// allRoles is the default: everything in one process.
func allRoles() roles {
	r := roles{}
	for _, t := range roleTable {
		r[t.name] = true
	}
	return r
}

// parseRoles reads --roles: names from roleTable separated by commas, or
// "all".
func parseRoles(v string) (roles, error) {
	if strings.TrimSpace(v) == "all" {
		return allRoles(), nil
	}
	r := roles{}
	for name := range strings.SplitSeq(v, ",") {
		name = strings.TrimSpace(name)
		if !slices.ContainsFunc(roleTable, func(t roleInfo) bool { return string(t.name) == name }) {
			return nil, fmt.Errorf("--roles: unknown role %q (want all, or some of %s)", name, roleNames())
		}
		r[role(name)] = true
	}
	return r, nil
}

// roleNames lists the roles' names, comma-separated.
func roleNames() string {
	names := make([]string, len(roleTable))
	for i, t := range roleTable {
		names[i] = string(t.name)
	}
	return strings.Join(names, ",")
}

// all reports whether every role runs here.
func (r roles) all() bool { return len(r) == len(roleTable) }

// needs reports whether a role that runs here needs dep.
func (r roles) needs(dep string) bool {
	for _, t := range roleTable {
		if r[t.name] && slices.Contains(t.needs, dep) {
			return true
		}
	}
	return false
}

// String lists the roles in table order.
func (r roles) String() string {
	var names []string
	for _, t := range roleTable {
		if r[t.name] {
			names = append(names, string(t.name))
		}
	}
	return strings.Join(names, ",")
}

// rolesUsage is --roles' help text, from the table.
func rolesUsage() string {
	var b strings.Builder
	b.WriteString("`roles` this process runs, comma-separated (default all):")
	for _, t := range roleTable {
		fmt.Fprintf(&b, "\n\t%s: %s (needs %s)", t.name, t.runs, strings.Join(t.needs, ", "))
	}
	return b.String()
}
