// Package natstest starts real NATS JetStream clusters inside a test
// process, on loopback ports, each node with its own store directory, so
// tests can stop a node hard and bring it back. It is for tests only.
package natstest

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a NATS cluster of in-process nodes.
type Cluster struct {
	t     testing.TB
	name  string
	dir   string
	ports []int // client port of each node
	route []int // cluster (route) port of each node

	mu    sync.Mutex
	nodes []*server.Server // nil while a node is stopped
}

// Start starts a cluster of n JetStream nodes and waits until they have
// elected a JetStream meta leader. They are shut down when the test ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t, name: "souq-test", dir: t.TempDir(), ports: freePorts(t, n), route: freePorts(t, n), nodes: make([]*server.Server, n)}
	for i := range n {
		c.Restart(i)
	}
	t.Cleanup(func() {
		for i := range n {
			c.Stop(i)
		}
	})
	c.waitForLeader()
	return c
}

// URL is the client URL of every node, comma-separated, as a client that
// fails over between them takes it.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.ports))
	for i, p := range c.ports {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", p)
	}
	return strings.Join(urls, ",")
}

// Stop shuts node i down at once (no lame-duck period): its clients are
// cut off and its store is left as it is on disk.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	s := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Restart starts node i again on its ports and store directory (or for the
// first time).
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	var routes []string
	for j, p := range c.route {
		if j != i {
			routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
		}
	}
	opts := &server.Options{
		ServerName: fmt.Sprintf("n%d", i+1),
		Host:       "127.0.0.1",
		Port:       c.ports[i],
		JetStream:  true,
		StoreDir:   filepath.Join(c.dir, fmt.Sprintf("n%d", i+1)),
		Cluster: server.ClusterOpts{
			Name: c.name,
			Host: "127.0.0.1",
			Port: c.route[i],
		},
		Routes:                 server.RoutesFromStr(strings.Join(routes, ",")),
		NoSigs:                 true,
		DisableJetStreamBanner: true,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		c.t.Fatalf("natstest: node %d: %v", i+1, err)
	}
	s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		c.t.Fatalf("natstest: node %d not ready after 30 s", i+1)
	}
	c.mu.Lock()
	c.nodes[i] = s
	c.mu.Unlock()
}

// Node returns node i, or nil while it is stopped.
func (c *Cluster) Node(i int) *server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// waitForLeader waits until a running node knows the JetStream meta
// leader.
func (c *Cluster) waitForLeader() {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for i := range c.nodes {
			if s := c.Node(i); s != nil && s.JetStreamIsLeader() {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatal("natstest: no JetStream meta leader after 60 s")
}

// freePorts returns n loopback ports free at the time of the call.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	lns := make([]net.Listener, n)
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("natstest: free port: %v", err)
		}
		lns[i], ports[i] = ln, ln.Addr().(*net.TCPAddr).Port
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}
