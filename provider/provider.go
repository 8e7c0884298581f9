// Package provider is a Traefik provider plugin that turns the current replicas of
// each configured app, found by static, DNS or Kubernetes discovery, into the objects
// the storeaffinity middleware routes with: one service per member, a sticky weighted
// service, the affinity middleware and an optional router.
//
// Traefik interprets this package with Yaegi, so it imports the standard library only,
// and nothing newer than Go 1.22. It is its own module, published as its own
// repository, because the plugin catalog serves one plugin per repository.
package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// startupWait bounds how long the first configuration waits for every app's first
// member list before it is emitted with the apps known so far.
const startupWait = 5 * time.Second

// Provider emits Traefik dynamic configuration for the configured apps.
type Provider struct {
	name   string
	config *Config

	apps        []*appSpec
	startupWait time.Duration

	cancel context.CancelFunc
	done   sync.WaitGroup
}

// appUpdate is a source's report: the complete member list of one app.
type appUpdate struct {
	app     string
	members []member
}

// New returns a provider for the configuration; Init checks the configuration.
func New(ctx context.Context, config *Config, name string) (*Provider, error) {
	if config == nil {
		config = CreateConfig()
	}
	return &Provider{name: name, config: config, startupWait: startupWait}, nil
}

// Init validates the configuration. Its errors name the key at fault.
func (p *Provider) Init() error {
	apps, err := buildApps(p.config)
	if err != nil {
		return fmt.Errorf("provider %s: %w", p.name, err)
	}
	p.apps = apps
	return nil
}

// Provide starts discovery and sends a configuration to cfgChan whenever the
// generated objects change. It returns at once; Stop ends discovery.
func (p *Provider) Provide(cfgChan chan<- json.Marshaler) error {
	if p.apps == nil {
		return errors.New("provide called before a successful init")
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	updates := make(chan appUpdate)
	for _, app := range p.apps {
		p.done.Add(1)
		go p.runSource(ctx, app, updates)
	}
	p.done.Add(1)
	go p.emit(ctx, updates, cfgChan)
	return nil
}

// Stop ends discovery and waits for its goroutines.
func (p *Provider) Stop() error {
	if p.cancel != nil {
		p.cancel()
	}
	p.done.Wait()
	return nil
}

func (p *Provider) runSource(ctx context.Context, app *appSpec, updates chan<- appUpdate) {
	defer p.done.Done()
	name := app.name
	app.source.run(ctx, func(members []member) {
		// Built before the select: under Yaegi, a composite literal in a select case
		// inside a closure loses the captured variables it reads.
		u := appUpdate{app: name, members: members}
		select {
		case updates <- u:
		case <-ctx.Done():
		}
	})
}

// emit collects member lists and sends the configuration when its encoding changes.
// The first configuration waits for every app, or for startupWait.
func (p *Provider) emit(ctx context.Context, updates <-chan appUpdate, cfgChan chan<- json.Marshaler) {
	defer p.done.Done()
	members := make(map[string][]member)
	refused := make(map[string]string)
	startup := time.NewTimer(p.startupWait)
	defer startup.Stop()
	started := false
	var last []byte
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-updates:
			u.members = withoutTakenNames(os.Stderr, u.app, u.members, refused)
			if previous, seen := members[u.app]; seen && !p.checked(u.app) {
				logMembership(os.Stdout, u.app, previous, u.members, "discovery")
			}
			members[u.app] = u.members
		case <-startup.C:
			started = true
		}
		if len(members) == len(p.apps) {
			started = true
		}
		if !started || len(members) == 0 {
			continue
		}
		generated := generate(p.config.MiddlewarePlugin, p.apps, members)
		addMetrics(generated.HTTP, p.config.MiddlewarePlugin, p.config.Metrics)
		data, err := encode(generated)
		if err != nil {
			fmt.Fprintf(os.Stderr, "provider %s: encode configuration: %v\n", p.name, err)
			continue
		}
		if bytes.Equal(data, last) {
			continue
		}
		// Converting before the select matters under Yaegi: a select case does not
		// wrap an interpreted value for a compiled channel of interfaces.
		var cfg json.Marshaler = &payload{data: data}
		select {
		case cfgChan <- cfg:
			last = data
		case <-ctx.Done():
			return
		}
	}
}

// checked reports whether app has a health check, which logs its member changes itself.
func (p *Provider) checked(app string) bool {
	for _, a := range p.apps {
		if a.name == app {
			return a.checked
		}
	}
	return false
}
