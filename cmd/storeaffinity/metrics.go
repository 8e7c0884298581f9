package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/storeaffinity/storeaffinity-provider"
)

// The middleware's metrics, as status reads them: the live sessions and live stores
// of each member, which only the Traefik replica that holds them open can count.

// apiRouter is what Traefik's API tells of a router.
type apiRouter struct {
	Name        string   `json:"name"`
	EntryPoints []string `json:"entryPoints"`
	Rule        string   `json:"rule"`
	TLS         any      `json:"tls"`
}

// apiEntryPoint is what Traefik's API tells of an entry point.
type apiEntryPoint struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// memberOfApp is a member as the metrics label it: its app, and its name less the
// app's and a '-'.
type memberOfApp struct {
	app, member string
}

// liveCounts are a member's live sessions and live stores, as the metrics give them.
type liveCounts struct {
	sessions, stores string
}

// The metric families that status reads.
const (
	liveSessionsFamily = "storeaffinity_live_sessions"
	liveStoresFamily   = "storeaffinity_live_stores"
)

// metricsURL returns the URL of the middleware's metrics on the Traefik at base: the
// path of the provider's metrics router, on its entry point's port, at the host of
// base. It returns "" when there is no such router.
func metricsURL(ctx context.Context, base string) (string, error) {
	var routers []apiRouter
	if err := traefikGet(ctx, base, "/api/http/routers?per_page=10000", &routers); err != nil {
		return "", err
	}
	var router *apiRouter
	for i := range routers {
		if strings.HasPrefix(routers[i].Name, provider.MetricsObject+"@") {
			router = &routers[i]
			break
		}
	}
	if router == nil {
		return "", nil
	}
	path, prefixed := strings.CutPrefix(router.Rule, "Path(`")
	path, suffixed := strings.CutSuffix(path, "`)")
	if !prefixed || !suffixed || len(router.EntryPoints) != 1 {
		return "", fmt.Errorf("router %s: want one entry point and the rule Path(`<path>`), have %v and %s", router.Name, router.EntryPoints, router.Rule)
	}
	var entryPoints []apiEntryPoint
	if err := traefikGet(ctx, base, "/api/entrypoints?per_page=10000", &entryPoints); err != nil {
		return "", err
	}
	for _, e := range entryPoints {
		if e.Name != router.EntryPoints[0] {
			continue
		}
		_, port, err := net.SplitHostPort(strings.TrimSuffix(e.Address, "/tcp"))
		if err != nil {
			return "", fmt.Errorf("entry point %s of router %s: address %s: %w", e.Name, router.Name, e.Address, err)
		}
		traefik, err := url.Parse(base)
		if err != nil {
			return "", fmt.Errorf("--traefik: %w", err)
		}
		metrics := url.URL{Scheme: "http", Host: net.JoinHostPort(traefik.Hostname(), port), Path: path}
		if router.TLS != nil {
			metrics.Scheme = "https"
		}
		return metrics.String(), nil
	}
	return "", fmt.Errorf("router %s: no entry point %s in /api/entrypoints", router.Name, router.EntryPoints[0])
}

// liveMetrics reads the live sessions and live stores of each member from the metrics
// at address.
func liveMetrics(ctx context.Context, address string) (map[memberOfApp]*liveCounts, error) {
	body, status, err := getBounded(ctx, address)
	if err != nil {
		return nil, err
	}
	if status != "" {
		return nil, fmt.Errorf("GET %s: %s", address, status)
	}
	live, err := parseLive(string(body))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", address, err)
	}
	return live, nil
}

// parseLive reads the samples of the live sessions and live stores families from
// metrics in Prometheus's text format, by app and member; it skips every other line.
func parseLive(text string) (map[memberOfApp]*liveCounts, error) {
	live := map[memberOfApp]*liveCounts{}
	for n, line := range strings.Split(text, "\n") {
		name, rest, found := strings.Cut(line, "{")
		name = strings.TrimSpace(name)
		if !found || name != liveSessionsFamily && name != liveStoresFamily {
			continue
		}
		labels, value, err := parseSample(rest)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", n+1, name, err)
		}
		key := memberOfApp{labels["app"], labels["member"]}
		if live[key] == nil {
			live[key] = &liveCounts{sessions: "-", stores: "-"}
		}
		if name == liveSessionsFamily {
			live[key].sessions = value
		} else {
			live[key].stores = value
		}
	}
	return live, nil
}

// parseSample reads a sample's labels, after the '{', and its value; a timestamp may
// follow.
func parseSample(rest string) (map[string]string, string, error) {
	labels := map[string]string{}
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if after, ok := strings.CutPrefix(rest, "}"); ok {
			rest = after
			break
		}
		name, after, ok := strings.Cut(rest, `="`)
		if !ok {
			return nil, "", errors.New(`a label without ="`)
		}
		var value strings.Builder
		for rest = after; ; rest = rest[1:] {
			if rest == "" {
				return nil, "", fmt.Errorf("label %s: no closing quote", printable(strings.TrimSpace(name)))
			}
			if rest[0] == '"' {
				rest = rest[1:]
				break
			}
			if rest[0] == '\\' && len(rest) > 1 {
				rest = rest[1:]
				if rest[0] == 'n' {
					value.WriteByte('\n')
					continue
				}
			}
			value.WriteByte(rest[0])
		}
		labels[strings.TrimSpace(name)] = value.String()
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 || len(fields) > 2 {
		return nil, "", errors.New("want a value and an optional timestamp after the labels")
	}
	value, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return nil, "", fmt.Errorf("value: %w", err)
	}
	return labels, strconv.FormatFloat(value, 'f', -1, 64), nil
}
