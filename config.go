package storeaffinity

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/storeaffinity/storeaffinity/hashing"
)

// defaultStompDeviceHeader is the CONNECT header of the OpenPOS client's device ID.
const defaultStompDeviceHeader = "deviceId"

// Values of responseStamp.
const (
	stampMember = "member"
	stampStore  = "store"
	stampOff    = "off"
)

// Values of missingDeviceId.
const (
	missingReject     = "reject"
	missingRoundRobin = "roundRobin"
)

// Config is the middleware configuration. Every key has a default (see CreateConfig);
// lists also accept comma-separated strings, as docker labels deliver them.
type Config struct {
	// DeviceAffinityPrefixes are path prefixes; the path segment after one is the device ID.
	DeviceAffinityPrefixes []string `json:"deviceAffinityPrefixes,omitempty" yaml:"deviceAffinityPrefixes,omitempty"`
	// DeviceIDHeader is an optional request header that carries the device ID.
	DeviceIDHeader string `json:"deviceIdHeader,omitempty" yaml:"deviceIdHeader,omitempty"`
	// DeviceIDQuery is an optional query parameter that carries the device ID.
	DeviceIDQuery string `json:"deviceIdQuery,omitempty" yaml:"deviceIdQuery,omitempty"`
	// StoreIDPattern is an RE2 pattern with a named group "store"; empty means
	// everything before the device ID's last "-".
	StoreIDPattern string `json:"storeIdPattern,omitempty" yaml:"storeIdPattern,omitempty"`
	// Members are the child service names of the sticky weighted service.
	Members []string `json:"members,omitempty" yaml:"members,omitempty"`
	// StickyCookie is the weighted service's sticky cookie name.
	StickyCookie string `json:"stickyCookie,omitempty" yaml:"stickyCookie,omitempty"`
	// Strategy is "rendezvous" (default) or "modulo".
	Strategy string `json:"strategy,omitempty" yaml:"strategy,omitempty"`
	// AffinityHeader names the header that reports the store and member.
	AffinityHeader string `json:"affinityHeader,omitempty" yaml:"affinityHeader,omitempty"`
	// MissingDeviceID is "reject" (400) or "roundRobin", for an affinity path without a
	// valid device ID.
	MissingDeviceID string `json:"missingDeviceId,omitempty" yaml:"missingDeviceId,omitempty"`
	// RebalanceGrace is how long live requests of a moved store may go on after a
	// membership change; "0" or "off" keeps them.
	RebalanceGrace string `json:"rebalanceGrace,omitempty" yaml:"rebalanceGrace,omitempty"`
	// RebalanceSpread is a window after the grace over which the moved stores' live
	// requests end, each store at a fixed point of it, so that they do not all
	// reconnect at once; "0" ends them all at the grace.
	RebalanceSpread string `json:"rebalanceSpread,omitempty" yaml:"rebalanceSpread,omitempty"`
	// StompConnectPaths are request paths whose WebSocket upgrades name their device
	// only in the first STOMP frame (CONNECT), as the OpenPOS client's /api/websocket.
	StompConnectPaths []string `json:"stompConnectPaths,omitempty" yaml:"stompConnectPaths,omitempty"`
	// StompDeviceIDHeader is the CONNECT frame header that carries the device ID.
	StompDeviceIDHeader string `json:"stompDeviceIdHeader,omitempty" yaml:"stompDeviceIdHeader,omitempty"`
	// ResponseStamp is what the client sees of the affinity header on a stateful
	// response: "member" (the store and member), "store" (the store only) or "off".
	// The backend always gets the whole stamp.
	ResponseStamp string `json:"responseStamp,omitempty" yaml:"responseStamp,omitempty"`
	// App is the metrics' app label (the provider fills it); empty means the
	// middleware's name. A member's label is its name less the app's and a '-'.
	App string `json:"app,omitempty" yaml:"app,omitempty"`
	// ServeMetrics makes the middleware answer every request with the metrics of every
	// storeaffinity middleware of this Traefik, in Prometheus's text format; it then
	// takes no other key. The provider routes one on the entry point its metrics name.
	ServeMetrics bool `json:"serveMetrics,omitempty" yaml:"serveMetrics,omitempty"`
}

// CreateConfig returns the default configuration.
func CreateConfig() *Config {
	return &Config{
		Strategy:            hashing.StrategyRendezvous,
		AffinityHeader:      "X-Store-Affinity",
		MissingDeviceID:     missingReject,
		RebalanceGrace:      "5s",
		RebalanceSpread:     "0s",
		StompDeviceIDHeader: defaultStompDeviceHeader,
		ResponseStamp:       stampMember,
	}
}

// settings is a validated Config, ready for the request path.
type settings struct {
	prefixes          []string
	deviceHeader      string
	deviceQuery       string
	stores            *hashing.StoreDeriver
	picker            hashing.Picker
	strategy          string
	storePattern      string
	cookieName        string
	affinityHeader    string
	forgedHeaders     []string
	roundRobinBad     bool
	grace             time.Duration
	spread            time.Duration
	stompPaths        map[string]bool
	stompDeviceHeader string
	responseStamp     string
	app               string
}

// parse checks every key and returns the settings, or an error that names the key.
func (c *Config) parse() (*settings, error) {
	s := &settings{
		deviceHeader:   http.CanonicalHeaderKey(strings.TrimSpace(c.DeviceIDHeader)),
		deviceQuery:    strings.TrimSpace(c.DeviceIDQuery),
		cookieName:     strings.TrimSpace(c.StickyCookie),
		affinityHeader: http.CanonicalHeaderKey(orDefault(c.AffinityHeader, "X-Store-Affinity")),
		app:            strings.TrimSpace(c.App),
	}
	var err error
	if s.prefixes, err = parsePrefixes(splitList(c.DeviceAffinityPrefixes)); err != nil {
		return nil, err
	}
	if len(s.prefixes) == 0 && s.deviceHeader == "" && s.deviceQuery == "" && len(splitList(c.StompConnectPaths)) == 0 {
		return nil, fmt.Errorf("deviceAffinityPrefixes, deviceIdHeader, deviceIdQuery or stompConnectPaths: at least one is required")
	}
	if s.deviceQuery != "" && !validQueryName(s.deviceQuery) {
		return nil, fmt.Errorf("deviceIdQuery: %q has characters other than letters, digits, '-', '_' and '.'", s.deviceQuery)
	}
	for _, h := range [][2]string{{"affinityHeader", s.affinityHeader}, {"deviceIdHeader", s.deviceHeader}} {
		if tooManySeparators(h[1]) {
			return nil, fmt.Errorf("%s: %q has more than %d '-' or '_', so not every spelling a backend reads as it can be removed", h[0], h[1], maxSpelledSeparators)
		}
	}
	s.forgedHeaders = forgedSpellings(s.affinityHeader)
	if s.deviceHeader != "" {
		s.forgedHeaders = append(s.forgedHeaders, forgedSpellings(s.deviceHeader)...)
	}
	if s.cookieName == "" {
		return nil, fmt.Errorf("stickyCookie: required (the weighted service's sticky cookie name)")
	}
	if !validCookieName(s.cookieName) {
		return nil, fmt.Errorf("stickyCookie: %q is not a valid cookie name", s.cookieName)
	}
	s.storePattern = c.StoreIDPattern
	if s.stores, err = hashing.NewStoreDeriver(c.StoreIDPattern); err != nil {
		return nil, err
	}
	s.strategy = orDefault(c.Strategy, hashing.StrategyRendezvous)
	if err := hashing.CheckStrategy(s.strategy); err != nil {
		return nil, fmt.Errorf("strategy: %w", err)
	}
	// No members is valid: the provider emits it while no backend is ready, and the
	// weighted service then answers 503.
	members := splitList(c.Members)
	if len(members) != 0 {
		if s.picker, err = hashing.New(s.strategy, members); err != nil {
			return nil, fmt.Errorf("members: %w", err)
		}
	}
	switch strings.TrimSpace(c.MissingDeviceID) {
	case "", missingReject:
	case missingRoundRobin:
		s.roundRobinBad = true
	default:
		return nil, fmt.Errorf("missingDeviceId: %q (want %q or %q)", c.MissingDeviceID, missingReject, missingRoundRobin)
	}
	if s.grace, err = parseGrace(c.RebalanceGrace); err != nil {
		return nil, err
	}
	if s.spread, err = parseSpread(c.RebalanceSpread); err != nil {
		return nil, err
	}
	if s.stompPaths, err = parseStompPaths(splitList(c.StompConnectPaths), s.prefixes); err != nil {
		return nil, err
	}
	s.stompDeviceHeader = orDefault(c.StompDeviceIDHeader, defaultStompDeviceHeader)
	if strings.ContainsAny(s.stompDeviceHeader, ":\r\n\x00") {
		return nil, fmt.Errorf("stompDeviceIdHeader: %q holds ':', a line break or NUL, which no STOMP header name can", s.stompDeviceHeader)
	}
	s.responseStamp = orDefault(c.ResponseStamp, stampMember)
	if s.responseStamp != stampMember && s.responseStamp != stampStore && s.responseStamp != stampOff {
		return nil, fmt.Errorf("responseStamp: %q (want %q, %q or %q)", c.ResponseStamp, stampMember, stampStore, stampOff)
	}
	return s, nil
}

// placement returns a key for everything that decides a device's route: two middleware
// instances with the same placement route every device the same way, and share the
// cached routes (which hold the response stamp too).
func (s *settings) placement() string {
	return s.rules() + "|" + strings.Join(s.picker.Members(), ",")
}

// rules returns everything in placement but the member list.
func (s *settings) rules() string {
	// Quoted: a pattern or a cookie name may hold any separator.
	return strconv.Quote(s.strategy) + strconv.Quote(s.storePattern) + strconv.Quote(s.cookieName) + strconv.Quote(s.responseStamp)
}

// splitList flattens a list whose items may themselves be comma-separated, as labels
// and command-line flags deliver lists, trimming spaces and dropping empty items.
// The provider module has the same function (parse.go of
// github.com/storeaffinity/storeaffinity-provider): the two plugins are separate
// modules and import nothing from each other. demo/e2e/catalog's
// TestCopiesAcrossModulesStayTheSame holds the two the same.
func splitList(items []string) []string {
	var out []string
	for _, item := range items {
		for _, part := range strings.Split(item, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func parseGrace(value string) (time.Duration, error) {
	value = strings.TrimSpace(value)
	switch value {
	case "":
		return 5 * time.Second, nil
	case "0", "off":
		return 0, nil
	}
	grace, err := time.ParseDuration(value)
	if err != nil || grace < 0 {
		return 0, fmt.Errorf("rebalanceGrace: %q is not a duration like 5s, or 0/off", value)
	}
	return grace, nil
}

// maxSpread bounds rebalanceSpread: past it, a moved store's devices may stay apart
// longer than any reconnect storm lasts.
const maxSpread = time.Hour

func parseSpread(value string) (time.Duration, error) {
	value = strings.TrimSpace(value)
	if value == "" || value == "0" || value == "off" {
		return 0, nil
	}
	spread, err := time.ParseDuration(value)
	if err != nil || spread < 0 || spread > maxSpread {
		return 0, fmt.Errorf("rebalanceSpread: %q is not a duration from 0 to 1h, like 30s", value)
	}
	return spread, nil
}

func orDefault(value, fallback string) string {
	if value = strings.TrimSpace(value); value != "" {
		return value
	}
	return fallback
}

// validCookieName reports whether name is an RFC 6265 token.
func validCookieName(name string) bool {
	return !strings.ContainsAny(name, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"+
		"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f ()<>@,;:\\\"/[]?={}")
}

const letterDigits = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// validQueryName reports whether name is a query parameter name that needs no
// escaping, so that its raw form can be looked for in a raw query.
func validQueryName(name string) bool {
	return strings.Trim(name, letterDigits+"-_.") == ""
}
