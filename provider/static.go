package provider

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// staticSource reports a fixed member list once.
type staticSource struct {
	members []member
}

// newStaticSource parses servers given as name=url pairs.
func newStaticSource(key string, cfg *StaticDiscovery) (*staticSource, error) {
	servers := splitList(cfg.Servers)
	if len(servers) == 0 {
		return nil, fmt.Errorf("%s.servers: empty; give name=url pairs", key)
	}
	seen := make(map[string]bool)
	src := &staticSource{}
	for i, server := range servers {
		itemKey := fmt.Sprintf("%s.servers[%d]", key, i)
		name, rawURL, found := strings.Cut(server, "=")
		name, rawURL = strings.TrimSpace(name), strings.TrimSpace(rawURL)
		if !found || name == "" {
			return nil, fmt.Errorf("%s: %q is not a name=url pair", itemKey, server)
		}
		if !validName(name) {
			return nil, fmt.Errorf("%s: member name %q has characters other than letters, digits, '-', '_' and '.'", itemKey, name)
		}
		if err := checkServerURL(rawURL); err != nil {
			return nil, fmt.Errorf("%s: %w", itemKey, err)
		}
		if takesGeneratedName("", name) {
			return nil, fmt.Errorf("%s: member name %q is taken by the round-robin service <app>-%s; rename the member", itemKey, name, name)
		}
		if seen[name] {
			return nil, fmt.Errorf("%s: duplicate member name %q", itemKey, name)
		}
		seen[name] = true
		src.members = append(src.members, member{Name: name, URL: rawURL})
	}
	return src, nil
}

// checkServerURL accepts absolute http, https and h2c URLs with a host.
func checkServerURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("bad URL %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "http", "https", "h2c":
	default:
		return fmt.Errorf("bad URL %q: scheme must be http, https or h2c", rawURL)
	}
	if u.Host == "" {
		return fmt.Errorf("bad URL %q: no host", rawURL)
	}
	return nil
}

func (s *staticSource) run(ctx context.Context, update func([]member)) {
	update(s.members)
}
