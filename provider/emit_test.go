package provider

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeSource reports the member lists it is given on its channel.
type fakeSource struct {
	lists chan []member
}

func (s *fakeSource) run(ctx context.Context, update func([]member)) {
	for {
		select {
		case <-ctx.Done():
			return
		case list := <-s.lists:
			update(list)
		}
	}
}

// startFake runs a provider over fake sources, one per app name, and returns them
// with the configuration channel.
func startFake(t *testing.T, wait time.Duration, names ...string) (map[string]*fakeSource, chan json.Marshaler) {
	t.Helper()
	p, err := New(context.Background(), CreateConfig(), "test")
	if err != nil {
		t.Fatal(err)
	}
	p.startupWait = wait
	sources := make(map[string]*fakeSource)
	for _, name := range names {
		src := &fakeSource{lists: make(chan []member)}
		sources[name] = src
		p.apps = append(p.apps, &appSpec{name: name, source: src})
	}
	cfgChan := make(chan json.Marshaler)
	if err := p.Provide(cfgChan); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	return sources, cfgChan
}

// startProvider builds, checks and starts a provider of cfg, stopped when the test ends.
func startProvider(t *testing.T, cfg *Config) (*Provider, chan json.Marshaler) {
	t.Helper()
	p, err := New(context.Background(), cfg, "storeaffinityprovider")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Init(); err != nil {
		t.Fatal(err)
	}
	cfgChan := make(chan json.Marshaler)
	if err := p.Provide(cfgChan); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	return p, cfgChan
}

// report hands a fake source a member list, failing the test rather than waiting for
// good when the provider does not take it.
func report(t *testing.T, src *fakeSource, list []member) {
	t.Helper()
	select {
	case src.lists <- list:
	case <-time.After(10 * time.Second):
		t.Fatalf("the provider took no report of %v within 10 s", list)
	}
}

// nextConfig returns the next configuration, decoded, and its JSON; nil after timeout.
func nextConfig(t *testing.T, cfgChan chan json.Marshaler, timeout time.Duration) (*dynamicConfig, []byte) {
	t.Helper()
	select {
	case m := <-cfgChan:
		data, err := m.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var cfg dynamicConfig
		if err := json.Unmarshal(data, &cfg); err != nil {
			t.Fatal(err)
		}
		return &cfg, data
	case <-time.After(timeout):
		return nil, nil
	}
}

// receive returns the next configuration's member lists per app, or nil after timeout.
func receive(t *testing.T, cfgChan chan json.Marshaler, timeout time.Duration) map[string][]string {
	t.Helper()
	cfg, _ := nextConfig(t, cfgChan, timeout)
	if cfg == nil {
		return nil
	}
	got := make(map[string][]string)
	for name, mw := range cfg.HTTP.Middlewares {
		if mw.Plugin != nil {
			got[strings.TrimSuffix(name, "-affinity")] = mw.Plugin["storeaffinity"].Members
		}
	}
	return got
}

func TestEmitsOnlyWhenMembershipChanges(t *testing.T) {
	sources, cfgChan := startFake(t, time.Minute, "pos")
	a := member{Name: "a", URL: "http://a"}
	b := member{Name: "b", URL: "http://b"}
	steps := []struct {
		report []member
		want   string // members of the emitted configuration, "" for none
	}{
		{report: []member{a}, want: "pos-a"},
		{report: []member{a}, want: ""},
		{report: []member{b, a}, want: "pos-a,pos-b"},
		{report: []member{a, b}, want: ""},
		{report: []member{b}, want: "pos-b"},
		{report: []member{{Name: "b", URL: "http://b2"}}, want: "pos-b"}, // a new URL is a change
	}
	for i, step := range steps {
		report(t, sources["pos"], step.report)
		got := receive(t, cfgChan, 200*time.Millisecond)
		if step.want == "" {
			if got != nil {
				t.Fatalf("step %d: emitted %v for an unchanged membership", i, got)
			}
			continue
		}
		if strings.Join(got["pos"], ",") != step.want {
			t.Fatalf("step %d: emitted members %v, want %s", i, got, step.want)
		}
	}
}

func TestFirstConfigurationWaitsForEveryApp(t *testing.T) {
	sources, cfgChan := startFake(t, time.Minute, "pos", "inventory")
	report(t, sources["pos"], []member{{Name: "a", URL: "http://a"}})
	if got := receive(t, cfgChan, 200*time.Millisecond); got != nil {
		t.Fatalf("emitted %v before every app reported", got)
	}
	report(t, sources["inventory"], []member{{Name: "i", URL: "http://i"}})
	got := receive(t, cfgChan, time.Second)
	if len(got) != 2 {
		t.Fatalf("emitted %v, want both apps", got)
	}
}

func TestFirstConfigurationGivesUpWaitingAfterStartupWait(t *testing.T) {
	sources, cfgChan := startFake(t, 100*time.Millisecond, "pos", "inventory")
	report(t, sources["pos"], []member{{Name: "a", URL: "http://a"}})
	got := receive(t, cfgChan, 2*time.Second)
	if len(got) != 1 || strings.Join(got["pos"], ",") != "pos-a" {
		t.Fatalf("emitted %v, want pos alone", got)
	}
}

func TestProvideEmitsStaticConfiguration(t *testing.T) {
	cfg := decodeConfig(t, `{"apps": [{"name": "pos", "static": {"servers": ["pos-1=http://10.0.0.6:8080", "pos-0=http://10.0.0.5:8080"]}}]}`)
	p, cfgChan := startProvider(t, cfg)
	stopped := make(chan error, 1)
	select {
	case m := <-cfgChan:
		data, err := m.MarshalJSON()
		if err != nil {
			t.Error(err)
		}
		checkGolden(t, "static.json", data)
	case <-time.After(5 * time.Second):
		t.Error("no configuration within 5s")
	}
	go func() { stopped <- p.Stop() }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return within 5s")
	}
}

// TestAppPassesEveryOptionItTakes compares, by reflection, the middleware options an
// app takes with those the provider writes into the middleware's configuration, so
// that a key added to one of the two copies only fails here (the harness compares App
// with the middleware's own Config).
func TestAppPassesEveryOptionItTakes(t *testing.T) {
	keys := func(v any) map[string]bool {
		out := map[string]bool{}
		typ := reflect.TypeOf(v)
		for i := 0; i < typ.NumField(); i++ {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				out[name] = true
			}
		}
		return out
	}
	own := map[string]bool{"name": true, "static": true, "dns": true, "kubernetes": true, "healthCheck": true, "router": true}
	app, written := keys(App{}), keys(affinityConfig{})
	for key := range app {
		if !own[key] && !written[key] {
			t.Errorf("app key %s is not written into the middleware's configuration", key)
		}
	}
	for key := range written {
		if key != "members" && key != "stickyCookie" && key != "app" && key != "serveMetrics" && !app[key] {
			t.Errorf("middleware key %s is written but no app key sets it", key)
		}
	}
	// Every option an app sets reaches the middleware's configuration.
	var a App
	value := reflect.ValueOf(&a).Elem()
	for i := 0; i < value.NumField(); i++ {
		field := value.Field(i)
		switch field.Kind() {
		case reflect.String:
			field.SetString("x")
		case reflect.Slice:
			if field.Type().Elem().Kind() == reflect.String {
				field.Set(reflect.ValueOf([]string{"/x"}))
			}
		}
	}
	data, err := json.Marshal(buildOptions(&a))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	for key := range app {
		if !own[key] && got[key] == nil {
			t.Errorf("app key %s is set, but buildOptions does not write it", key)
		}
	}
}
