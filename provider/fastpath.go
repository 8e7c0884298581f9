package provider

import (
	"regexp"
	"strings"
)

// The fast path: with a router, the provider emits two. The stateful router catches
// every request that the affinity middleware would read a device ID from, or refuse,
// and sends it through the middleware to the sticky weighted service, as one router
// would. Every other request goes to a plain round-robin service over the same
// members, through a compiled headers middleware that removes the affinity header, so
// that it never enters the interpreter.
//
// The split fails closed: the stateless rule is the app's rule and not the stateful
// one's sources, so the two never overlap, and both keep the router's priority. When
// Traefik disables the stateful router (a middleware option the middleware refuses),
// a device's request matches no router and gets a 404, as with one router; it never
// falls through to round-robin. Middlewares on the router act after Traefik has chosen
// one, and may rewrite what the middleware reads (stripPrefix, a forwardAuth that sets
// the device header), so a router with middlewares keeps one router. The entry point's
// own middlewares act the same way, and the provider cannot see them: router.oneRouter
// keeps one router.
//
// The stateful rule is a superset: a request it catches needlessly is served exactly
// as with one router. Traefik's path matchers read the path percent-decoded except
// for reserved characters; the rule lets each reserved character of a prefix come
// encoded or not, every segment carry ';' parameters, and '/' come as %2F, because
// the middleware reads the path as a servlet container does (parameters removed, all
// decoded). Headers are matched in every '-' and '_' spelling. A query parameter
// cannot be matched in every spelling that a backend reads (Traefik's Query matchers
// take one decoded name), so an app with deviceIdQuery keeps one router.

// DefaultAffinityHeader is the middleware's default affinityHeader; a test in the
// harness checks that the two agree.
const DefaultAffinityHeader = "X-Store-Affinity"

// splitRouters reports whether the app's requests can be split between the two
// routers: it has a device-ID source, every one is visible to Traefik's matchers, and
// no middleware of the router can change the request after the routers matched it.
func splitRouters(router *Router, options affinityConfig) bool {
	hasSource := len(options.DeviceAffinityPrefixes) > 0 || len(options.StompConnectPaths) > 0 || options.DeviceIDHeader != ""
	return hasSource && options.DeviceIDQuery == "" && len(router.Middlewares) == 0 && !router.OneRouter
}

// statefulRule returns the rule of the stateful router: the app's rule, and any
// device-ID source of the middleware.
func statefulRule(rule string, options affinityConfig) string {
	return "(" + rule + ") && (" + sourcesRule(options) + ")"
}

// statelessRule returns the rule of the stateless router: the app's rule, and no
// device-ID source of the middleware.
func statelessRule(rule string, options affinityConfig) string {
	return "(" + rule + ") && !(" + sourcesRule(options) + ")"
}

// sourcesRule returns a rule that matches every request that carries one of the
// middleware's device-ID sources.
func sourcesRule(options affinityConfig) string {
	var sources []string
	var paths []string
	for _, prefix := range options.DeviceAffinityPrefixes {
		// A prefix ends at a segment's end: the device segment, or none (refused).
		paths = append(paths, pathPattern(prefix)+`(?:$|/|%2[Ff])`)
	}
	for _, path := range options.StompConnectPaths {
		paths = append(paths, pathPattern(path)+`$`)
	}
	if len(paths) > 0 {
		sources = append(sources, "PathRegexp(`^(?:"+strings.Join(paths, "|")+")`)")
	}
	if options.DeviceIDHeader != "" {
		for _, spelling := range headerSpellings(options.DeviceIDHeader) {
			sources = append(sources, "HeaderRegexp(`"+spelling+"`, `.*`)")
		}
	}
	return strings.Join(sources, " || ")
}

// pathPattern returns a pattern of a path (from '/') as Traefik's routing path shows
// it, whatever the client encoded, each segment with optional ';' parameters.
func pathPattern(path string) string {
	var b strings.Builder
	for i, segment := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if i == 0 {
			b.WriteString("/") // a path starts with a plain '/'
		} else {
			b.WriteString(`(?:/|%2[Ff])`)
		}
		for j := 0; j < len(segment); j++ {
			b.WriteString(charPattern(segment[j]))
		}
		b.WriteString(`(?:;[^/]*)?`)
	}
	return b.String()
}

// charPattern matches a character of a path as Traefik's routing path shows it: an
// unreserved character always decoded, any other either way.
func charPattern(c byte) string {
	if isUnreserved(c) {
		return regexp.QuoteMeta(string(c))
	}
	const hex = "0123456789ABCDEF"
	hi, lo := hex[c>>4], hex[c&15]
	encoded := "%" + string(hi)
	if lo >= 'A' {
		encoded += "[" + string(lo) + string(lo+'a'-'A') + "]"
	} else {
		encoded += string(lo)
	}
	return "(?:" + regexp.QuoteMeta(string(c)) + "|" + encoded + ")"
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0
}

// headerSpellings returns a header name with each '-' or '_' written either way: the
// spellings that some backends (CGI, nginx, PHP) read as one header.
func headerSpellings(name string) []string {
	spellings := []string{""}
	for _, c := range name {
		var next []string
		for _, s := range spellings {
			if c == '-' || c == '_' {
				next = append(next, s+"-", s+"_")
			} else {
				next = append(next, s+string(c))
			}
		}
		spellings = next
	}
	return spellings
}

// stripHeaders returns the request headers that the strip middleware removes: the
// affinity header in every spelling (an empty value removes a header).
func stripHeaders(options affinityConfig) map[string]string {
	name := options.AffinityHeader
	if name == "" {
		name = DefaultAffinityHeader
	}
	headers := map[string]string{}
	for _, spelling := range headerSpellings(name) {
		headers[spelling] = ""
	}
	return headers
}
