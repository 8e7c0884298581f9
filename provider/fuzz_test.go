package provider

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzConfigDecoding feeds arbitrary JSON to the configuration, as Traefik hands the
// static configuration over. Init never panics: it accepts the configuration, and the
// objects generated from it encode as JSON, or it returns one line that names a key.
func FuzzConfigDecoding(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"apps": [{"name": "pos", "static": {"servers": ["a=http://a:1"]}}]}`,
		`{"apps": [{"name": "pos", "dns": {"name": "_http._tcp.pos", "interval": "0s"}}]}`,
		`{"apps": [{"name": "pos", "kubernetes": {"service": "pos", "endpoint": "https://127.0.0.1:1", "token": "t"}}]}`,
		`{"apps": [{"name": "pos", "static": {"servers": ["a=http://a:1"]}, "healthCheck": {"panicThreshold": "150%", "fails": "-1"}}]}`,
		`{"apps": [{"name": "pos", "static": {"servers": ["a=http://a:1,a=http://b:1"]}, "router": {"rule": ""}}]}`,
		`{"middlewarePlugin": "", "apps": [{"name": "p\u0000s"}]}`,
		`{"apps": [{"name": "pos", "static": {"servers": ["=", "a=", "=http://x"]}}]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cfg := CreateConfig()
		if json.Unmarshal([]byte(text), cfg) != nil {
			t.Skip()
		}
		p, err := New(context.Background(), cfg, "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Init(); err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "provider fuzz: ") || strings.Contains(msg, "\n") {
				t.Fatalf("Init error %q: want one line that starts with the provider name", msg)
			}
			if !strings.Contains(msg, "apps") && !strings.Contains(msg, "middlewarePlugin") {
				t.Fatalf("Init error %q names no key", msg)
			}
			return
		}
		members := map[string][]member{}
		for _, app := range p.apps {
			members[app.name] = []member{{Name: "m", URL: "http://127.0.0.1:1"}}
		}
		if _, err := encode(generate(cfg.MiddlewarePlugin, p.apps, members)); err != nil {
			t.Fatalf("encode the generated configuration: %v", err)
		}
	})
}
