package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// healthSource filters the members of another source by health probes.
type healthSource struct {
	key            string
	inner          source
	path           string
	interval       time.Duration
	fails          int
	passes         int
	panicThreshold float64 // share of healthy members below which all members stay
	client         *http.Client
	stderr         io.Writer
	stdout         io.Writer
	app            string
}

// memberHealth is a member's probe record.
type memberHealth struct {
	member   member
	probed   bool
	healthy  bool
	okRun    int
	failRun  int
	lastSeen int // discovery round that last listed the member
}

func newHealthSource(key string, cfg *HealthCheck, inner source) (*healthSource, error) {
	h := &healthSource{key: key, inner: inner, path: strings.TrimSpace(cfg.Path), stderr: os.Stderr, stdout: os.Stdout}
	if h.path == "" {
		h.path = "/"
	}
	if u, err := url.Parse(h.path); err != nil || !strings.HasPrefix(h.path, "/") || u.Host != "" {
		return nil, fmt.Errorf("%s.path: %q is not an absolute path", key, h.path)
	}
	var err error
	if h.interval, err = parseInterval(cfg.Interval, 2*time.Second); err != nil {
		return nil, fmt.Errorf("%s.interval: %w", key, err)
	}
	timeout, err := parseInterval(cfg.Timeout, time.Second)
	if err != nil {
		return nil, fmt.Errorf("%s.timeout: %w", key, err)
	}
	if h.fails, err = parseCount(cfg.Fails, 2); err != nil {
		return nil, fmt.Errorf("%s.fails: %w", key, err)
	}
	if h.passes, err = parseCount(cfg.Passes, 2); err != nil {
		return nil, fmt.Errorf("%s.passes: %w", key, err)
	}
	if h.panicThreshold, err = parsePanicThreshold(cfg.PanicThreshold); err != nil {
		return nil, fmt.Errorf("%s.panicThreshold: %w", key, err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DisableKeepAlives = true
	h.client = &http.Client{
		Timeout:   timeout,
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return h, nil
}

// parseCount checks a count; zero means fallback.
func parseCount(n, fallback int) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("%d is negative", n)
	}
	if n == 0 {
		return fallback, nil
	}
	return n, nil
}

// parsePanicThreshold reads a share such as "50%" or "0.5"; empty means 50%.
func parsePanicThreshold(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0.5, nil
	}
	number, percent := strings.CutSuffix(s, "%")
	share, err := strconv.ParseFloat(strings.TrimSpace(number), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a share such as 50%% or 0.5", s)
	}
	if percent {
		share /= 100
	}
	if !(share >= 0 && share <= 1) {
		return 0, fmt.Errorf("%q is not between 0%% and 100%% (0 to 1 without %%)", s)
	}
	return share, nil
}

func (h *healthSource) run(ctx context.Context, update func([]member)) {
	discovered := make(chan []member)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.inner.run(ctx, func(members []member) {
			select {
			case discovered <- members:
			case <-ctx.Done():
			}
		})
	}()
	defer func() { <-done }()

	ticker := time.NewTicker(h.interval)
	defer ticker.Stop()
	states := make(map[string]*memberHealth)
	round := 0
	last, reported, panicking := "", false, false
	var previous []member
	for {
		reason := "health check"
		select {
		case <-ctx.Done():
			return
		case list := <-discovered:
			reason = "discovery"
			round++
			for _, m := range sortMembers(list) {
				state, ok := states[m.Name]
				if !ok || state.member.URL != m.URL {
					state = &memberHealth{member: m}
					states[m.Name] = state
				}
				state.lastSeen = round
			}
			for name, state := range states {
				if state.lastSeen != round {
					delete(states, name)
				}
			}
			h.probe(ctx, states, true)
		case <-ticker.C:
			h.probe(ctx, states, false)
		}
		if round == 0 || ctx.Err() != nil {
			continue
		}
		members, healthy, belowThreshold := h.members(states)
		if belowThreshold != panicking {
			panicking = belowThreshold
			reason = "panic threshold: back to health-checked members"
			if panicking {
				reason = "panic threshold: every discovered member stays"
				fmt.Fprintf(h.stderr, "%s: %d of %d members healthy, below panicThreshold; every member stays\n", h.key, healthy, len(states))
			}
		}
		key := ""
		for _, m := range members {
			key += m.Name + "=" + m.URL + ","
		}
		if !reported || key != last {
			if reported {
				logMembership(h.stdout, h.app, previous, members, reason)
			}
			last, reported, previous = key, true, members
			update(members)
		}
	}
}

// members returns the healthy members, sorted, and how many there are; when fewer
// than panicThreshold of the discovered members are healthy, it returns all of them
// and reports true (Envoy's healthy panic threshold: a probe that breaks everywhere
// at once is more likely the probe than the fleet).
func (h *healthSource) members(states map[string]*memberHealth) ([]member, int, bool) {
	healthy, all := []member{}, []member{}
	for _, state := range states {
		all = append(all, state.member)
		if state.healthy {
			healthy = append(healthy, state.member)
		}
	}
	// Yaegi v0.16.1 panics on a return that mixes a call and len(); use locals.
	count := len(healthy)
	panicking := float64(count) < h.panicThreshold*float64(len(all))
	chosen := healthy
	if panicking {
		chosen = all
	}
	chosen = sortMembers(chosen)
	return chosen, count, panicking
}

// probe checks members concurrently: all of them, or only the never-probed ones.
func (h *healthSource) probe(ctx context.Context, states map[string]*memberHealth, onlyNew bool) {
	var wg sync.WaitGroup
	for _, state := range states {
		if onlyNew && state.probed {
			continue
		}
		wg.Add(1)
		go h.probeOne(ctx, state, &wg)
	}
	wg.Wait()
}

func (h *healthSource) probeOne(ctx context.Context, state *memberHealth, wg *sync.WaitGroup) {
	defer wg.Done()
	ok := h.check(ctx, state.member.URL)
	if !state.probed {
		state.probed, state.healthy = true, ok
		if !ok {
			state.failRun = 1
		}
		return
	}
	if ok {
		state.okRun++
		state.failRun = 0
		if !state.healthy && state.okRun >= h.passes {
			state.healthy = true
		}
		return
	}
	state.failRun++
	state.okRun = 0
	if state.healthy && state.failRun >= h.fails {
		state.healthy = false
	}
}

// check reports whether GET <url><path> answers with a 2xx or 3xx status.
func (h *healthSource) check(ctx context.Context, base string) bool {
	target := strings.Replace(base, "h2c://", "http://", 1) + h.path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return false
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}
