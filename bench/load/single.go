package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/souq-commerce/souq/bench/internal/server"
)

// singleGet measures wrk and the open-loop client on one cheap GET, one
// after the other, against one fresh shop.
func (b *bench) singleGet(ctx context.Context) {
	c := b.c
	base, stop, err := b.startShop(ctx)
	if err != nil {
		b.sum.getErr = err
		return
	}
	defer stop()
	path := c.getPath
	if path == "" {
		if path, err = productPath(ctx, b.client, base); err != nil {
			b.sum.getErr = err
			return
		}
	}
	target := base + path
	b.sum.getPath = path
	fmt.Fprintf(b.out, "\nsingle GET %s: wrk, %d threads and %d connections, for %s after a 2 s warm-up …\n", path, c.wrkThreads, c.connections, c.getDuration)
	wrkArgs := func(d time.Duration) []string {
		return []string{"-t", fmt.Sprint(c.wrkThreads), "-c", fmt.Sprint(c.connections), "-d", secondsArg(d), "--timeout", "10s",
			"--latency", "-H", "Accept: application/json", target}
	}
	if p, err := startProc("wrk", wrkArgs(2*time.Second), nil); err != nil {
		b.sum.getErr = err
		return
	} else if _, err := p.wait(ctx, time.Minute); err != nil {
		b.sum.getErr = withOutput(fmt.Errorf("wrk (warm-up): %w", err), p)
		return
	}

	w := &getRun{name: "wrk"}
	b.sum.gets = append(b.sum.gets, w)
	before, err := b.machineSample(ctx, base)
	if err != nil {
		w.err = err
		return
	}
	p, err := startProc("wrk", wrkArgs(c.getDuration), nil)
	if err != nil {
		w.err = err
		return
	}
	if w.use, err = p.wait(ctx, c.getDuration+time.Minute); err != nil {
		w.err = withOutput(fmt.Errorf("wrk: %w", err), p)
		return
	}
	if w.win, err = b.windowSince(ctx, base, before, w.use); err != nil {
		w.err = err
		return
	}
	wr, err := parseWrk(p.out.String())
	if err != nil {
		w.err = err
		return
	}
	w.requests, w.errors, w.perSec, w.p50, w.p99 = wr.requests, wr.non2xx+wr.socket, wr.perSec, wr.p50, wr.p99
	fmt.Fprintf(b.out, "wrk: %d requests in %.2f s, %.0f/s, %d errors, %.2f CPU s\n", wr.requests, wr.seconds, wr.perSec, w.errors, w.use.cpu().Seconds())

	rate := c.getRate
	if rate == 0 {
		rate = wr.perSec
	}
	g := &getRun{name: "open-loop client (loadgen transport)", offered: rate}
	b.sum.gets = append(b.sum.gets, g)
	if rate < 1 {
		g.err = fmt.Errorf("no rate to offer: wrk reached %.1f/s", wr.perSec)
		return
	}
	fmt.Fprintf(b.out, "open-loop client: %.0f requests/s offered, at most %d in flight, for %s …\n", rate, c.connections, c.getDuration)
	if before, err = b.machineSample(ctx, base); err != nil {
		g.err = err
		return
	}
	p, err = startProc(b.self, []string{getClientCommand, "-url", target, "-rate", fmt.Sprintf("%.0f", rate),
		"-duration", c.getDuration.String(), "-workers", fmt.Sprint(c.connections)}, nil)
	if err != nil {
		g.err = err
		return
	}
	if g.use, err = p.wait(ctx, c.getDuration+time.Minute); err != nil {
		g.err = withOutput(fmt.Errorf("open-loop client: %w", err), p)
		return
	}
	if g.win, err = b.windowSince(ctx, base, before, g.use); err != nil {
		g.err = err
		return
	}
	out := strings.TrimSpace(p.out.String())
	var res getResult
	if err := json.Unmarshal([]byte(out[strings.LastIndexByte(out, '\n')+1:]), &res); err != nil {
		g.err = withOutput(fmt.Errorf("open-loop client's result: %w", err), p)
		return
	}
	g.requests, g.errors, g.notSent = res.Requests, res.Non2xx, res.NotSent
	if res.Seconds > 0 {
		g.perSec = float64(res.Requests) / res.Seconds
	}
	g.p50, g.p99 = fmt.Sprintf("%.2fms", res.P50ms), fmt.Sprintf("%.2fms", res.P99ms)
	fmt.Fprintf(b.out, "open-loop client: %d requests in %.2f s, %.0f/s, %d errors, %d due but not sent, %.2f CPU s\n",
		res.Requests, res.Seconds, g.perSec, g.errors, res.NotSent, g.use.cpu().Seconds())
}

// productPath returns the API path of the first product of the AE
// listing.
func productPath(ctx context.Context, client *http.Client, base string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/products?market=AE&page_size=1", nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK || len(page.Items) == 0 {
		return "", fmt.Errorf("list products: status %d, %d products, %v", resp.StatusCode, len(page.Items), err)
	}
	return "/api/v1/products/" + url.PathEscape(page.Items[0].ID) + "?market=AE", nil
}

// machineSample reads the machine's CPU time and the shop's counters now,
// before a single-GET generator starts.
func (b *bench) machineSample(ctx context.Context, base string) (sample, error) {
	m, err := server.MachineBusy()
	if err != nil {
		return sample{}, fmt.Errorf("read the machine's CPU time: %w", err)
	}
	shop, err := countShop(ctx, b.client, base)
	if err != nil {
		return sample{}, fmt.Errorf("read the shop's counters: %w", err)
	}
	return sample{at: time.Now(), machine: m, shop: shop}, nil
}

// windowSince is a single-GET generator's whole run as a window: from
// before it started to now, with the CPU time of its whole process.
func (b *bench) windowSince(ctx context.Context, base string, before sample, use usage) (window, error) {
	now, err := b.machineSample(ctx, base)
	if err != nil {
		return window{}, err
	}
	now.cpu = use.cpu()
	return between(before, now), nil
}
