package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

const loadSynopsis = "rapport load [--url URL] [--token TOKEN] [--clients N] [--duration D] [--batch N] [--max N]"

// loadConfig is one run of the load command.
type loadConfig struct {
	base     string
	token    string
	clients  int
	duration time.Duration
	batch    int // moments per request; 0 sends single moments
	max      int // requests at most, per target
}

// runLoad records moments on a running server from many keep-alive clients
// and, in the same run, drives a bare handler that decodes the same JSON
// and answers 201 (the ceiling of the HTTP stack on this machine), so that
// Rapport's rate reads as a share of what the machine allows.
func runLoad(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("load", loadSynopsis, stderr)
	var cfg loadConfig
	fs.StringVar(&cfg.base, "url", "http://127.0.0.1:8080", "the running server; only this machine's loopback addresses")
	fs.StringVar(&cfg.token, "token", getenv("RAPPORT_TOKEN"), "an API token of an agent or above ($RAPPORT_TOKEN)")
	fs.IntVar(&cfg.clients, "clients", 32, "clients sending at once, 1 to 256")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long to drive each target, 1s to 10m")
	fs.IntVar(&cfg.batch, "batch", 0, "moments per request: 0 sends single moments, else batches of up to 1000")
	fs.IntVar(&cfg.max, "max", 1_000_000, "requests at most per target")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := cfg.check(); err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.clients, MaxConnsPerHost: cfg.clients, Proxy: nil}}
	customers, touchpoints, err := cfg.catalogue(ctx, client)
	if err != nil {
		return err
	}
	body := cfg.bodies(customers, touchpoints)

	ceiling, err := driveBare(ctx, client, cfg, body)
	if err != nil {
		return err
	}
	path := "/api/v1/moments"
	if cfg.batch > 0 {
		path += "/batch"
	}
	got := drive(ctx, client, cfg, cfg.base+path, cfg.token, body)
	rss, _ := cfg.residentMemory(ctx, client)

	what := "single moments"
	if cfg.batch > 0 {
		what = fmt.Sprintf("batches of %d moments", cfg.batch)
	}
	clients := fmt.Sprintf("%d clients", cfg.clients)
	if cfg.clients == 1 {
		clients = "1 client"
	}
	fmt.Fprintf(stdout, "Recording %s from %s for %s at %s\n\n", what, clients, cfg.duration, cfg.base)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\trequests/s\tmoments/s\tp50\tp95\tp99\terrors\t")
	for _, r := range []struct {
		name string
		res  loadResult
	}{{"bare handler (ceiling)", ceiling}, {"rapport", got}} {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.name, rate(r.res.requests, r.res.elapsed), rate(r.res.moments, r.res.elapsed),
			ms(r.res.quantile(0.50)), ms(r.res.quantile(0.95)), ms(r.res.quantile(0.99)), r.res.errors)
	}
	tw.Flush()
	if c := float64(ceiling.moments) / ceiling.elapsed.Seconds(); c > 0 {
		fmt.Fprintf(stdout, "\nRapport's share of its ceiling: %.1f%%\n", 100*float64(got.moments)/got.elapsed.Seconds()/c)
	}
	fmt.Fprintf(stdout, "Moments stored: %d\n", got.moments)
	if rss > 0 {
		fmt.Fprintf(stdout, "Server resident memory after the run: %.0f MB\n", rss/(1<<20))
	}
	if got.errors > 0 {
		return fmt.Errorf("%d of %d requests failed; the first: %s", got.errors, got.requests, got.firstError)
	}
	return nil
}

// check refuses settings out of range, and any server but this machine's.
func (c *loadConfig) check() error {
	switch {
	case c.token == "":
		return usageError{"load needs an API token: --token or $RAPPORT_TOKEN (rapport token create --role agent)"}
	case c.clients < 1 || c.clients > 256:
		return usageError{"--clients must be from 1 to 256"}
	case c.duration < time.Second || c.duration > 10*time.Minute:
		return usageError{"--duration must be from 1s to 10m"}
	case c.batch < 0 || c.batch > 1000:
		return usageError{"--batch must be from 0 to 1000"}
	case c.max < 1:
		return usageError{"--max must be at least 1"}
	}
	u, err := url.Parse(c.base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError{fmt.Sprintf("--url %q is not an http:// address", c.base)}
	}
	if host := u.Hostname(); host != "localhost" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return usageError{fmt.Sprintf("--url %q is not on this machine: load drives only loopback addresses (127.0.0.1, ::1, localhost)", c.base)}
		}
	}
	c.base = strings.TrimSuffix(c.base, "/")
	return nil
}

// catalogue reads up to 200 customers' ids and the touchpoints' keys.
func (c *loadConfig) catalogue(ctx context.Context, client *http.Client) (customers, touchpoints []string, err error) {
	var cs struct{ Items []struct{ ID string } }
	if err := c.getJSON(ctx, client, "/api/v1/customers?limit=200", &cs); err != nil {
		return nil, nil, err
	}
	var ts struct{ Items []struct{ Key string } }
	if err := c.getJSON(ctx, client, "/api/v1/touchpoints", &ts); err != nil {
		return nil, nil, err
	}
	for _, x := range cs.Items {
		customers = append(customers, x.ID)
	}
	for _, t := range ts.Items {
		touchpoints = append(touchpoints, t.Key)
	}
	if len(customers) == 0 || len(touchpoints) == 0 {
		return nil, nil, errors.New("the server has no customers or touchpoints to record moments for; fill it first (rapport demo)")
	}
	return customers, touchpoints, nil
}

// get asks the server for path with the token, and returns its answer
// when it is 200.
func (c *loadConfig) get(ctx context.Context, client *http.Client, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(res.Body, 500))
		return nil, fmt.Errorf("GET %s = %d: %s", path, res.StatusCode, b)
	}
	return res, nil
}

func (c *loadConfig) getJSON(ctx context.Context, client *http.Client, path string, v any) error {
	res, err := c.get(ctx, client, path)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return json.NewDecoder(res.Body).Decode(v)
}

// residentMemory reads the server's resident memory from its metrics.
func (c *loadConfig) residentMemory(ctx context.Context, client *http.Client) (float64, error) {
	res, err := c.get(ctx, client, "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), "process_resident_memory_bytes "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, errors.New("no process_resident_memory_bytes in the metrics")
}

// bodies returns the body of the i-th request: one moment, or a batch.
// External ids carry this run's own prefix, so a second run records anew.
func (c *loadConfig) bodies(customers, touchpoints []string) func(i int) []byte {
	var b [6]byte
	rand.Read(b[:])
	run := "load-" + hex.EncodeToString(b[:])
	now := time.Now().UTC()
	channels := []string{"in_person", "phone", "email", "chat", "web"}
	moment := func(n int) map[string]any {
		return map[string]any{
			"external_id": fmt.Sprintf("%s-%d", run, n), "customer_id": customers[n%len(customers)],
			"touchpoint": touchpoints[n%len(touchpoints)], "channel": channels[n%len(channels)],
			"occurred_at": now.Add(-time.Duration(n%10000) * time.Minute).Format(time.RFC3339),
			"rating":      1 + n%5, "notes": "Asked about the renewal date and was answered at once.",
		}
	}
	return func(i int) []byte {
		var v any
		if c.batch == 0 {
			v = moment(i)
		} else {
			ms := make([]map[string]any, c.batch)
			for j := range ms {
				ms[j] = moment(i*c.batch + j)
			}
			v = map[string]any{"moments": ms}
		}
		out, _ := json.Marshal(v)
		return out
	}
}

// loadResult is what driving one target measured.
type loadResult struct {
	requests, moments, errors int
	elapsed                   time.Duration
	latencies                 []time.Duration
	firstError                string
}

func (r loadResult) quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(int(q*float64(len(r.latencies))), len(r.latencies)-1)]
}

// drive posts bodies to url from cfg.clients clients until the duration
// is over or cfg.max requests were sent.
func drive(ctx context.Context, client *http.Client, cfg loadConfig, target, token string, body func(int) []byte) loadResult {
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	perRequest := max(cfg.batch, 1)
	var (
		next atomic.Int64
		mu   sync.Mutex
		res  loadResult
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range cfg.clients {
		wg.Go(func() {
			var lat []time.Duration
			var ok, failed int
			var first string
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= cfg.max {
					break
				}
				t0 := time.Now()
				status, err := post(ctx, client, target, token, body(i))
				if ctx.Err() != nil {
					break // cut short by the end of the run: counts for nothing
				}
				lat = append(lat, time.Since(t0))
				if err != nil || (status != http.StatusCreated && status != http.StatusOK) {
					failed++
					if first == "" {
						first = fmt.Sprintf("status %d, %v", status, err)
					}
					continue
				}
				ok++
			}
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, lat...)
			res.requests += ok + failed
			res.moments += ok * perRequest
			res.errors += failed
			if res.firstError == "" {
				res.firstError = first
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}

func post(ctx context.Context, client *http.Client, target, token string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// driveBare serves, on a loopback port of this process, a handler that only
// decodes the same JSON and answers 201, and drives it as Rapport is driven.
func driveBare(ctx context.Context, client *http.Client, cfg loadConfig, body func(int) []byte) (loadResult, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return loadResult{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"created": true}`)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	defer srv.Close()
	return drive(ctx, client, cfg, "http://"+l.Addr().String()+"/", "", body), nil
}

func rate(n int, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(n)/d.Seconds(), 'f', 0, 64)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
