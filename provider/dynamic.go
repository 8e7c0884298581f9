package provider

// The subset of Traefik's dynamic configuration that the provider emits, as plain
// structs with json tags: under Yaegi, MarshalJSON methods of nested interpreted
// types are ignored, so nothing here has one.

type dynamicConfig struct {
	HTTP *httpConfig `json:"http"`
}

type httpConfig struct {
	Routers     map[string]*routerConfig     `json:"routers,omitempty"`
	Services    map[string]*serviceConfig    `json:"services"`
	Middlewares map[string]*middlewareConfig `json:"middlewares,omitempty"`
}

type routerConfig struct {
	EntryPoints []string `json:"entryPoints,omitempty"`
	Middlewares []string `json:"middlewares,omitempty"`
	Service     string   `json:"service"`
	Rule        string   `json:"rule"`
	Priority    int      `json:"priority,omitempty"`
}

type serviceConfig struct {
	LoadBalancer *loadBalancerConfig `json:"loadBalancer,omitempty"`
	Weighted     *weightedConfig     `json:"weighted,omitempty"`
}

type loadBalancerConfig struct {
	Servers        []serverConfig `json:"servers"`
	PassHostHeader bool           `json:"passHostHeader"`
}

type serverConfig struct {
	URL string `json:"url"`
}

type weightedConfig struct {
	Services []weightedChild `json:"services"`
	Sticky   stickyConfig    `json:"sticky"`
}

type weightedChild struct {
	Name   string `json:"name"`
	Weight int    `json:"weight"`
}

type stickyConfig struct {
	Cookie cookieConfig `json:"cookie"`
}

type cookieConfig struct {
	Name     string `json:"name"`
	HTTPOnly bool   `json:"httpOnly"`
}

type middlewareConfig struct {
	Plugin  map[string]*affinityConfig `json:"plugin,omitempty"`
	Headers *headersConfig             `json:"headers,omitempty"`
}

// headersConfig is Traefik's compiled headers middleware; an empty value removes
// the request header.
type headersConfig struct {
	CustomRequestHeaders map[string]string `json:"customRequestHeaders"`
}

// affinityConfig is the middleware plugin's configuration. Members and StickyCookie
// are always written; the other options only when the app sets them, so that the
// middleware's defaults apply.
//
// It lists App's middleware options again rather than embed a struct of them: Yaegi
// v0.16.1 marks a field as embedded only in a struct of one field, so encoding/json
// would write the options as a nested object. TestAppPassesEveryOptionItTakes holds
// the two lists equal.
type affinityConfig struct {
	Members                []string `json:"members"`
	StickyCookie           string   `json:"stickyCookie"`
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
	App                    string   `json:"app,omitempty"`
	ServeMetrics           bool     `json:"serveMetrics,omitempty"`
}

// payload hands Traefik configuration that is already encoded.
type payload struct {
	data []byte
}

// MarshalJSON returns the encoded configuration.
func (p *payload) MarshalJSON() ([]byte, error) {
	return p.data, nil
}
