package provider

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// kubernetesSource lists, then watches, the EndpointSlices of one Service. Members are
// the ready, non-terminating endpoints, named after their pod.
type kubernetesSource struct {
	client    *kubernetesClient
	namespace string
	selector  string // kubernetes.io/service-name=<service>
	port      string // name or number; empty means the slice's only port
	scheme    string

	minBackoff  time.Duration
	maxBackoff  time.Duration
	steadyWatch time.Duration // a watch this long needs no backoff, even without events

	// Traefik logs plugin stdout at DEBUG and stderr at ERROR; tests replace them.
	stdout io.Writer
	stderr io.Writer
}

func newKubernetesSource(key string, cfg *KubernetesDiscovery) (*kubernetesSource, error) {
	service := strings.TrimSpace(cfg.Service)
	if service == "" {
		return nil, fmt.Errorf("%s.service: empty; name the Service whose EndpointSlices list the members", key)
	}
	scheme, err := parseScheme(cfg.Scheme)
	if err != nil {
		return nil, fmt.Errorf("%s.scheme: %w", key, err)
	}
	namespace := strings.TrimSpace(cfg.Namespace)
	if namespace == "" {
		namespace = "default"
		if data, err := os.ReadFile(serviceAccountDir + "/namespace"); err == nil {
			namespace = strings.TrimSpace(string(data))
		}
	}
	port := strings.TrimSpace(cfg.Port)
	if n, err := strconv.Atoi(port); err == nil && (n < 1 || n > 65535) {
		return nil, fmt.Errorf("%s.port: %d is not a port number", key, n)
	}
	client, err := newKubernetesClient(key, cfg)
	if err != nil {
		return nil, err
	}
	return &kubernetesSource{
		client:      client,
		namespace:   namespace,
		selector:    "kubernetes.io/service-name=" + service,
		port:        port,
		scheme:      scheme,
		minBackoff:  200 * time.Millisecond,
		maxBackoff:  10 * time.Second,
		steadyWatch: 10 * time.Second,
		stdout:      os.Stdout,
		stderr:      os.Stderr,
	}, nil
}

// run lists and watches until ctx ends. Watches resume from the last resourceVersion;
// a 410 Gone lists again. Every retry backs off exponentially, including a watch that
// ends at once and a 410 that recurs; the backoff resets only after a watch that
// delivered an event or lasted steadyWatch. Errors report nothing, so the last good
// member list stays in place while the API server is unreachable.
func (s *kubernetesSource) run(ctx context.Context, update func([]member)) {
	backoff := s.minBackoff
	for ctx.Err() == nil {
		list, err := s.client.list(ctx, s.namespace, s.selector)
		if err != nil {
			if !s.pause(ctx, err, backoff) {
				return
			}
			backoff = s.nextBackoff(backoff)
			continue
		}
		slices := make(map[string]*endpointSlice)
		for i := range list.Items {
			slices[list.Items[i].Metadata.Name] = &list.Items[i]
		}
		update(s.members(slices))
		resourceVersion := list.Metadata.ResourceVersion
		handle := func(eventType string, slice *endpointSlice) {
			if eventType == "DELETED" {
				delete(slices, slice.Metadata.Name)
			} else {
				slices[slice.Metadata.Name] = slice
			}
			update(s.members(slices))
		}
		watches := 0 // since the list
		for ctx.Err() == nil {
			started := time.Now()
			next, err := s.client.watch(ctx, s.namespace, s.selector, resourceVersion, handle)
			watches++
			progressed := next != resourceVersion || time.Since(started) >= s.steadyWatch
			resourceVersion = next
			if progressed {
				backoff = s.minBackoff
			}
			// A 410 after watches that failed (an API server that restarted and lost its
			// watch cache) lists again at once; only a 410 straight after a list recurs.
			if err == errGone && (progressed || watches > 1) {
				fmt.Fprintf(s.stdout, "kubernetes discovery of %s in namespace %s: resourceVersion %s is gone; listing again\n", s.selector, s.namespace, resourceVersion)
				break
			}
			if err == nil && progressed {
				continue
			}
			if err == nil {
				err = fmt.Errorf("watch ended after %s without an event", time.Since(started).Round(time.Millisecond))
			}
			if !s.pause(ctx, err, backoff) {
				return
			}
			backoff = s.nextBackoff(backoff)
			if err == errGone {
				break
			}
		}
	}
}

// pause logs err, without the token, and waits d; it reports false when ctx ended first.
func (s *kubernetesSource) pause(ctx context.Context, err error, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	fmt.Fprintf(s.stderr, "kubernetes discovery of %s in namespace %s: %s (retry in %s)\n", s.selector, s.namespace, s.client.redact(err.Error()), d)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func (s *kubernetesSource) nextBackoff(d time.Duration) time.Duration {
	d *= 2
	if d > s.maxBackoff {
		d = s.maxBackoff
	}
	return d
}

// members returns the ready endpoints of all slices (see SliceEndpoints).
func (s *kubernetesSource) members(slices map[string]*endpointSlice) []member {
	list := make([]*endpointSlice, 0, len(slices))
	for _, slice := range slices {
		list = append(list, slice)
	}
	return readyMembers(sliceEndpoints(list, s.port, s.scheme))
}
