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

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/sqlstore"
)

const loadSynopsis = "rapport load [--url URL] [--token TOKEN] [--clients N] [--duration D] [--batch N] [--max N] [--rate R] [--reads N] [--read KINDS] [--db DSN]"

// loadConfig is one run of the load command.
type loadConfig struct {
	base     string
	token    string
	clients  int
	duration time.Duration
	batch    int     // moments per request; 0 sends single moments
	max      int     // requests at most, per target
	rate     float64 // requests per second at most; 0 as fast as the server answers
	reads    int     // clients reading while the moments are recorded
	kinds    []readKind
	db       string // the server's database, for the insert ceiling of batches
}

// runLoad records moments on a running server from many keep-alive clients
// and, in the same run, drives a bare handler that decodes the same JSON
// and answers 201 (the ceiling of the HTTP stack on this machine) and, for
// batches, inserts the same moments into a copy of the moments table with
// nothing derived (the ceiling of the database), so that Rapport's rate
// reads as a share of what the machine allows. Readers may ask for customer
// pages, timelines and reports meanwhile, each kind timed apart; with no
// recording clients, they read alone.
func runLoad(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("load", loadSynopsis, stderr)
	var (
		cfg loadConfig
		err error
	)
	fs.StringVar(&cfg.base, "url", "http://127.0.0.1:8080", "the running server; only this machine's loopback addresses")
	fs.StringVar(&cfg.token, "token", getenv("RAPPORT_TOKEN"), "an API token of an agent or above ($RAPPORT_TOKEN)")
	fs.IntVar(&cfg.clients, "clients", 32, "clients sending at once, 1 to 256; 0 records nothing and only reads (with --reads)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long to drive each target, 1s to 10m")
	fs.IntVar(&cfg.batch, "batch", 0, "moments per request: 0 sends single moments, else batches of up to 1000")
	fs.IntVar(&cfg.max, "max", 1_000_000, "requests at most per target")
	fs.Float64Var(&cfg.rate, "rate", 0, "recording requests per second at most, across clients (0: as fast as the server answers)")
	fs.IntVar(&cfg.reads, "reads", 0, "clients reading customers, timelines and reports while moments are recorded, 0 to 64")
	read := fs.String("read", defaultReads, "what readers ask for, in turn: a comma-separated list of "+readKindKeys()+", or all")
	fs.StringVar(&cfg.db, "db", defaultDB(getenv), "the server's database, where batches' insert ceiling is measured in a scratch table ($RAPPORT_DB)")
	if err = parse(fs, args); err != nil {
		return err
	}
	if err = cfg.check(); err != nil {
		return err
	}
	if cfg.kinds, err = chooseReads(*read); err != nil {
		return err
	}
	if cfg.clients == 0 {
		return cfg.readAlone(ctx, stdout)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.clients, MaxConnsPerHost: cfg.clients, Proxy: nil}}
	cat, err := cfg.catalogue(ctx, client)
	if err != nil {
		return err
	}
	gen := newMoments(cat)
	body := cfg.bodies(gen)

	// The ceiling is what the machine allows, so it is never held to --rate.
	unpaced := cfg
	unpaced.rate = 0
	ceiling, err := driveBare(ctx, client, unpaced, body)
	if err != nil {
		return err
	}
	path := "/api/v1/moments"
	if cfg.batch > 0 {
		path += "/batch"
	}
	readCtx, stopReads := context.WithCancel(ctx)
	reads := make(chan map[string]loadResult, 1)
	go func() { reads <- cfg.readAlong(readCtx, cat) }()
	got := drive(ctx, client, cfg, cfg.base+path, cfg.token, body)
	stopReads()
	readResults := <-reads
	rss, _ := cfg.residentMemory(ctx, client)
	var inserts loadResult
	var insertErr error
	if cfg.batch > 0 {
		inserts, insertErr = cfg.insertCeiling(ctx, gen)
	}

	what := "single moments"
	if cfg.batch > 0 {
		what = fmt.Sprintf("batches of %d moments", cfg.batch)
	}
	clients := fmt.Sprintf("%d clients", cfg.clients)
	if cfg.clients == 1 {
		clients = "1 client"
	}
	paced := ""
	if cfg.rate > 0 {
		paced = fmt.Sprintf(", at most %g requests/s", cfg.rate)
	}
	fmt.Fprintf(stdout, "Recording %s from %s%s for %s at %s\n\n", what, clients, paced, cfg.duration, cfg.base)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\trequests/s\tmoments/s\tp50\tp95\tp99\terrors\t")
	type row struct {
		name string
		res  loadResult
	}
	rows := []row{{"bare handler (ceiling)", ceiling}}
	if cfg.batch > 0 && insertErr == nil {
		rows = append(rows, row{"bare insert (ceiling)", inserts})
	}
	rows = append(rows, row{"rapport", got})
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.name, rate(r.res.requests, r.res.elapsed), rate(r.res.moments, r.res.elapsed),
			ms(r.res.quantile(0.50)), ms(r.res.quantile(0.95)), ms(r.res.quantile(0.99)), r.res.errors)
	}
	tw.Flush()
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "Rapport's share of the bare handler: %s\n", share(got, ceiling))
	switch {
	case cfg.batch > 0 && insertErr != nil:
		fmt.Fprintf(stdout, "Bare insert not measured: %v\n", insertErr)
	case cfg.batch > 0:
		fmt.Fprintf(stdout, "Rapport's share of the bare insert: %s\n", share(got, inserts))
	}
	fmt.Fprintf(stdout, "Moments stored: %d\n", got.moments)
	if rss > 0 {
		fmt.Fprintf(stdout, "Server resident memory after the run: %.0f MB\n", rss/(1<<20))
	}
	if len(readResults) > 0 {
		fmt.Fprintf(stdout, "\nRead while recording, from %d clients:\n\n", cfg.reads)
	}
	if got.errors > 0 {
		cfg.printReads(stdout, readResults)
		return fmt.Errorf("%d of %d requests failed; the first: %s", got.errors, got.requests, got.firstError)
	}
	return cfg.printReads(stdout, readResults)
}

// readAlone reads from cfg.reads clients for the duration with nothing
// recorded, and prints each kind of read's figures.
func (c *loadConfig) readAlone(ctx context.Context, stdout io.Writer) error {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}
	cat, err := c.catalogue(ctx, client)
	if err != nil {
		return err
	}
	readCtx, stop := context.WithTimeout(ctx, c.duration)
	defer stop()
	results := c.readAlong(readCtx, cat)
	readers := fmt.Sprintf("%d clients", c.reads)
	if c.reads == 1 {
		readers = "1 client"
	}
	fmt.Fprintf(stdout, "Reading alone from %s for %s at %s\n\n", readers, c.duration, c.base)
	if rss, _ := c.residentMemory(ctx, client); rss > 0 {
		defer fmt.Fprintf(stdout, "\nServer resident memory after the run: %.0f MB\n", rss/(1<<20))
	}
	return c.printReads(stdout, results)
}

// printReads prints each kind of read's figures, in the order asked, and
// fails when any read failed.
func (c *loadConfig) printReads(stdout io.Writer, results map[string]loadResult) error {
	if len(results) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\treads/s\tp50\tp95\tp99\terrors\t")
	for _, k := range c.kinds {
		if r, ok := results[k.name]; ok {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t\n", k.name, rate(r.requests, r.elapsed),
				ms(r.quantile(0.50)), ms(r.quantile(0.95)), ms(r.quantile(0.99)), r.errors)
		}
	}
	tw.Flush()
	for _, k := range c.kinds {
		if r := results[k.name]; r.errors > 0 {
			return fmt.Errorf("%d of %d reads of %s failed; the first: %s", r.errors, r.requests, k.name, r.firstError)
		}
	}
	return nil
}

// share is got's rate as a share of ceiling's.
func share(got, ceiling loadResult) string {
	c := float64(ceiling.moments) / ceiling.elapsed.Seconds()
	if c <= 0 || got.elapsed <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(got.moments)/got.elapsed.Seconds()/c)
}

// check refuses settings out of range, and any server but this machine's.
func (c *loadConfig) check() error {
	switch {
	case c.token == "":
		return usageError{"load needs an API token: --token or $RAPPORT_TOKEN (rapport token create --role agent)"}
	case c.clients < 0 || c.clients > 256:
		return usageError{"--clients must be from 0 to 256"}
	case c.clients == 0 && c.reads == 0:
		return usageError{"--clients 0 records nothing, so it needs readers: --reads N"}
	case c.duration < time.Second || c.duration > 10*time.Minute:
		return usageError{"--duration must be from 1s to 10m"}
	case c.batch < 0 || c.batch > 1000:
		return usageError{"--batch must be from 0 to 1000"}
	case c.max < 1:
		return usageError{"--max must be at least 1"}
	case c.rate < 0:
		return usageError{"--rate must not be negative"}
	case c.reads < 0 || c.reads > 64:
		return usageError{"--reads must be from 0 to 64"}
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

// catalogue is what the server holds that moments and reads refer to.
type catalogue struct {
	customers, touchpoints []string
	segment                string // a saved segment's id, if there is one
}

// catalogue reads up to 200 customers' ids, the touchpoints' keys and a
// saved segment.
func (c *loadConfig) catalogue(ctx context.Context, client *http.Client) (catalogue, error) {
	var cat catalogue
	var cs struct{ Items []struct{ ID string } }
	if err := c.getJSON(ctx, client, "/api/v1/customers?limit=200", &cs); err != nil {
		return cat, err
	}
	var ts struct{ Items []struct{ Key string } }
	if err := c.getJSON(ctx, client, "/api/v1/touchpoints", &ts); err != nil {
		return cat, err
	}
	var ss struct{ Items []struct{ ID string } }
	if err := c.getJSON(ctx, client, "/api/v1/segments?limit=1", &ss); err != nil {
		return cat, err
	}
	for _, x := range cs.Items {
		cat.customers = append(cat.customers, x.ID)
	}
	for _, t := range ts.Items {
		cat.touchpoints = append(cat.touchpoints, t.Key)
	}
	if len(ss.Items) > 0 {
		cat.segment = ss.Items[0].ID
	}
	if len(cat.customers) == 0 || len(cat.touchpoints) == 0 {
		return cat, errors.New("the server has no customers or touchpoints to record moments for; fill it first (rapport demo)")
	}
	return cat, nil
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

// newMoments returns the n-th moment of this run. External ids carry the
// run's own prefix, so a second run records anew.
func newMoments(cat catalogue) func(n int) rapport.Moment {
	var b [6]byte
	rand.Read(b[:])
	run := "load-" + hex.EncodeToString(b[:])
	now := time.Now().UTC().Truncate(time.Second)
	return func(n int) rapport.Moment {
		return rapport.Moment{
			ExternalID: fmt.Sprintf("%s-%d", run, n), CustomerID: cat.customers[n%len(cat.customers)],
			Touchpoint: cat.touchpoints[n%len(cat.touchpoints)], Channel: rapport.Channels[n%len(rapport.Channels)],
			OccurredAt: now.Add(-time.Duration(n%10000) * time.Minute),
			Rating:     new(1 + n%5), Notes: "Asked about the renewal date and was answered at once.",
		}
	}
}

// bodies returns the body of the i-th request: one moment, or a batch.
func (c *loadConfig) bodies(gen func(int) rapport.Moment) func(i int) []byte {
	moment := func(n int) map[string]any {
		m := gen(n)
		return map[string]any{
			"external_id": m.ExternalID, "customer_id": m.CustomerID, "touchpoint": m.Touchpoint,
			"channel": m.Channel, "occurred_at": m.OccurredAt.Format(time.RFC3339), "rating": *m.Rating, "notes": m.Notes,
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

// insertCeiling inserts batches of the same moments, for as long as
// Rapport was driven, into a copy of the moments table in the server's
// database, with none of what Rapport derives from them.
func (c *loadConfig) insertCeiling(ctx context.Context, gen func(int) rapport.Moment) (loadResult, error) {
	db, err := sqlstore.Open(ctx, c.db, nil)
	if err != nil {
		return loadResult{}, err
	}
	defer db.Close()
	now := time.Now()
	var lat []time.Duration
	last := time.Now()
	rows, took, err := db.InsertCeiling(ctx, func(i int) []*rapport.Moment {
		if i > 0 {
			lat = append(lat, time.Since(last))
		}
		if i >= c.max {
			return nil
		}
		last = time.Now()
		ms := make([]*rapport.Moment, c.batch)
		for j := range ms {
			m := gen(i*c.batch + j)
			m.Validate(now, -1)
			m.ID, m.RecordedAt = rapport.NewID(now), now
			ms[j] = &m
		}
		return ms
	}, c.duration)
	if err != nil {
		return loadResult{}, fmt.Errorf("in %s: %w (give the server's database with --db)", c.db, err)
	}
	if len(lat) < rows/c.batch {
		lat = append(lat, time.Since(last))
	}
	slices.Sort(lat)
	return loadResult{requests: rows / c.batch, moments: rows, elapsed: took, latencies: lat}, nil
}

// readKind is one kind of read: its key for --read, its name in the
// figures, and the path it asks for.
type readKind struct {
	key, name string
	path      func(customer, touchpoint, segment string) string
}

// readKinds are every kind of read, in the order they are printed.
var readKinds = []readKind{
	{"customer", "customer", func(c, _, _ string) string { return "/api/v1/customers/" + c }},
	{"timeline", "timeline", func(c, _, _ string) string { return "/api/v1/customers/" + c + "/timeline?limit=50" }},
	{"health", "health", func(c, _, _ string) string { return "/api/v1/customers/" + c + "/health" }},
	{"brief", "brief", func(c, _, _ string) string { return "/api/v1/customers/" + c + "/brief" }},
	{"cross-sell", "cross-sell", func(c, _, _ string) string { return "/api/v1/customers/" + c + "/cross-sell" }},
	{"touchpoints", "touchpoint report", func(_, _, _ string) string { return "/api/v1/reports/touchpoints" }},
	{"touchpoint", "touchpoint", func(_, t, _ string) string { return "/api/v1/touchpoints/" + t }},
	{"segment", "segment members", func(_, _, s string) string {
		if s == "" {
			return ""
		}
		return "/api/v1/segments/" + s + "/customers?limit=50"
	}},
	{"trend", "trend", func(_, t, _ string) string { return "/api/v1/touchpoints/" + t + "/trend" }},
	{"comparison", "comparison of responses", func(_, t, _ string) string {
		return "/api/v1/touchpoints/" + t + "/responses/comparison"
	}},
	{"recovery", "recovery report", func(_, _, _ string) string { return "/api/v1/reports/recovery" }},
	{"promises", "promises report", func(_, _, _ string) string { return "/api/v1/reports/promises" }},
	{"outcomes", "outcomes report", func(_, _, _ string) string { return "/api/v1/reports/outcomes" }},
}

// defaultReads are the reads of a customer's page and the loop's reports
// people open most.
const defaultReads = "customer,timeline,health,brief,cross-sell,touchpoints,touchpoint,segment"

func readKindKeys() string {
	keys := make([]string, len(readKinds))
	for i, k := range readKinds {
		keys[i] = k.key
	}
	return strings.Join(keys, ", ")
}

// chooseReads turns --read's list into kinds, in the order of readKinds.
func chooseReads(list string) ([]readKind, error) {
	if strings.TrimSpace(list) == "all" {
		return readKinds, nil
	}
	asked := map[string]bool{}
	for key := range strings.SplitSeq(list, ",") {
		key = strings.TrimSpace(key)
		if !slices.ContainsFunc(readKinds, func(k readKind) bool { return k.key == key }) {
			return nil, usageError{fmt.Sprintf("--read: no read is called %q; choose from %s, or all", key, readKindKeys())}
		}
		asked[key] = true
	}
	var out []readKind
	for _, k := range readKinds {
		if asked[k.key] {
			out = append(out, k)
		}
	}
	return out, nil
}

// readAlong reads from cfg.reads clients until ctx ends, each kind of read
// timed apart.
func (c *loadConfig) readAlong(ctx context.Context, cat catalogue) map[string]loadResult {
	// A kind with nothing to read on this server (no saved segment) is left out.
	kinds := slices.DeleteFunc(slices.Clone(c.kinds), func(k readKind) bool {
		return k.path(cat.customers[0], cat.touchpoints[0], cat.segment) == ""
	})
	if c.reads == 0 || len(kinds) == 0 {
		return nil
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: c.reads, MaxConnsPerHost: c.reads, Proxy: nil}}
	var (
		mu   sync.Mutex
		out  = map[string]loadResult{}
		wg   sync.WaitGroup
		next atomic.Int64
	)
	start := time.Now()
	for range c.reads {
		wg.Go(func() {
			mine := map[string]loadResult{}
			for ctx.Err() == nil {
				i := int(next.Add(1))
				k := kinds[i%len(kinds)]
				path := k.path(cat.customers[(i/len(kinds))%len(cat.customers)], cat.touchpoints[(i/len(kinds))%len(cat.touchpoints)], cat.segment)
				t0 := time.Now()
				res, err := c.get(ctx, client, path)
				if ctx.Err() != nil {
					break
				}
				r := mine[k.name]
				r.requests++
				r.latencies = append(r.latencies, time.Since(t0))
				if err != nil {
					r.errors++
					if r.firstError == "" {
						r.firstError = err.Error()
					}
				} else {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				mine[k.name] = r
			}
			mu.Lock()
			defer mu.Unlock()
			for name, r := range mine {
				all := out[name]
				all.requests += r.requests
				all.errors += r.errors
				all.latencies = append(all.latencies, r.latencies...)
				if all.firstError == "" {
					all.firstError = r.firstError
				}
				out[name] = all
			}
		})
	}
	wg.Wait()
	for name, r := range out {
		r.elapsed = time.Since(start)
		slices.Sort(r.latencies)
		out[name] = r
	}
	return out
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
				if cfg.rate > 0 { // the i-th request is sent no sooner than its turn
					if wait := time.Until(start.Add(time.Duration(float64(i) / cfg.rate * float64(time.Second)))); wait > 0 {
						select {
						case <-time.After(wait):
						case <-ctx.Done():
						}
					}
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
