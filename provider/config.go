package provider

// Config is the provider's configuration, found under providers.plugin.<alias> in
// Traefik's static configuration. Keys are camelCase; lists also accept a
// comma-separated string.
type Config struct {
	// MiddlewarePlugin is the alias of the middleware plugin that the emitted
	// middlewares use (default "storeaffinity").
	MiddlewarePlugin string `json:"middlewarePlugin,omitempty"`
	// Apps are the load-balanced applications; each gets its own objects.
	Apps []App `json:"apps,omitempty"`
	// Metrics, when set, routes the middleware's Prometheus metrics on an entry point
	// of the operator's, never on an app's router.
	Metrics *Metrics `json:"metrics,omitempty"`
}

// Metrics is where the middleware's metrics are served: the router
// storeaffinity-metrics, with rule Path(<path>) on the entry point.
type Metrics struct {
	EntryPoint string `json:"entryPoint,omitempty"` // default "traefik"
	Path       string `json:"path,omitempty"`       // default "/storeaffinity/metrics"
}

// App describes one application: how to discover its members, the middleware
// options passed through to the middleware plugin, and an optional router.
type App struct {
	// Name prefixes every emitted object: services <name>-<member>, the weighted
	// service <name>, the middleware <name>-affinity and the router <name>.
	Name string `json:"name,omitempty"`

	// Exactly one discovery kind is set.
	Static     *StaticDiscovery     `json:"static,omitempty"`
	DNS        *DNSDiscovery        `json:"dns,omitempty"`
	Kubernetes *KubernetesDiscovery `json:"kubernetes,omitempty"`

	// HealthCheck, when set, keeps only the members that answer its HTTP probes.
	HealthCheck *HealthCheck `json:"healthCheck,omitempty"`

	// Router, when set, emits a router <name> to the weighted service through the
	// affinity middleware.
	Router *Router `json:"router,omitempty"`

	// Middleware options, passed through unchanged to the middleware plugin when set.
	DeviceAffinityPrefixes []string `json:"deviceAffinityPrefixes,omitempty"`
	DeviceIDHeader         string   `json:"deviceIdHeader,omitempty"`
	DeviceIDQuery          string   `json:"deviceIdQuery,omitempty"`
	StoreIDPattern         string   `json:"storeIdPattern,omitempty"`
	Strategy               string   `json:"strategy,omitempty"`
	AffinityHeader         string   `json:"affinityHeader,omitempty"`
	MissingDeviceID        string   `json:"missingDeviceId,omitempty"`
	RebalanceGrace         string   `json:"rebalanceGrace,omitempty"`
	RebalanceSpread        string   `json:"rebalanceSpread,omitempty"`
	StompConnectPaths      []string `json:"stompConnectPaths,omitempty"`
	StompDeviceIDHeader    string   `json:"stompDeviceIdHeader,omitempty"`
	ResponseStamp          string   `json:"responseStamp,omitempty"`

	// Unknown holds keys that match no field, such as an unknown discovery kind;
	// Init rejects them. Traefik's configuration decoder fills it.
	Unknown map[string]interface{} `json:"-" mapstructure:",remain"`
}

// StaticDiscovery lists fixed members as name=url pairs.
type StaticDiscovery struct {
	Servers []string `json:"servers,omitempty"`
}

// DNSDiscovery looks members up by DNS at an interval: SRV records when Name starts
// with "_", else A and AAAA records combined with Port.
type DNSDiscovery struct {
	Name     string `json:"name,omitempty"`
	Port     string `json:"port,omitempty"`
	Interval string `json:"interval,omitempty"` // default 5s
	Resolver string `json:"resolver,omitempty"` // host:port; default the system resolver
	Scheme   string `json:"scheme,omitempty"`   // default http
	// MemberNames names the members of an A/AAAA lookup: "address" (the default) or
	// "reverse", the first label of each address's reverse (PTR) name, which stays
	// when a replica's address changes (Docker names a container <project>-<service>-<n>).
	MemberNames string `json:"memberNames,omitempty"`
}

// KubernetesDiscovery lists and watches the EndpointSlices of a Service. Empty
// connection options default to the in-cluster values.
type KubernetesDiscovery struct {
	Namespace        string `json:"namespace,omitempty"`
	Service          string `json:"service,omitempty"`
	Port             string `json:"port,omitempty"` // port name or number; may be empty when slices have one port
	Scheme           string `json:"scheme,omitempty"`
	Endpoint         string `json:"endpoint,omitempty"`
	Token            string `json:"token,omitempty"`
	TokenFile        string `json:"tokenFile,omitempty"`
	CertAuthFilePath string `json:"certAuthFilePath,omitempty"`
}

// HealthCheck probes each discovered member over HTTP. A member that fails Fails
// probes in a row leaves the member list; it comes back after Passes good probes.
// A newly discovered member joins after its first good probe.
type HealthCheck struct {
	Path     string `json:"path,omitempty"`     // default /
	Interval string `json:"interval,omitempty"` // default 2s
	Timeout  string `json:"timeout,omitempty"`  // default 1s
	Fails    int    `json:"fails,omitempty"`    // default 2
	Passes   int    `json:"passes,omitempty"`   // default 2
	// PanicThreshold is Envoy's healthy panic threshold, such as "50%" or "0.5": when
	// fewer than this share of the discovered members are healthy, every discovered
	// member is a member again. Default 50%; "0" turns it off.
	PanicThreshold string `json:"panicThreshold,omitempty"`
}

// Router is the optional router emitted for an app.
type Router struct {
	Rule        string   `json:"rule,omitempty"`
	EntryPoints []string `json:"entryPoints,omitempty"`
	Priority    int      `json:"priority,omitempty"`
	// Middlewares run before the affinity middleware.
	Middlewares []string `json:"middlewares,omitempty"`
	// OneRouter keeps one router through the affinity middleware, without the fast
	// path's stateless router: for an entry point whose middlewares rewrite the path or
	// set the device header, which the provider cannot see.
	OneRouter bool `json:"oneRouter,omitempty"`
}

// CreateConfig returns the default configuration.
func CreateConfig() *Config {
	return &Config{MiddlewarePlugin: "storeaffinity"}
}
