// Package plan owns `souq plan`: it reads what a `souq load` report shows
// one api pod sustained at its service-level objectives, and turns a sale
// (shoppers over a peak, a conversion) into pods per role, EKS nodes, the
// RDS and ElastiCache sizes, NATS JetStream sizing, the KEDA cron pre-scale
// trigger for the sale window, and the cost from a dated price table kept
// beside it (prices.json), allocated to the roles as OpenCost does. A price
// the table does not know for the region stays unknown.
package plan
