package provider

// The names of the objects the provider emits for an app, in one place: the operator
// CLI and the test harness call these, so that they never differ from what the
// provider writes. Traefik qualifies each with "@plugin-<alias>".

// MemberService returns the name of a member's service, which is also the member's
// name in the middleware's members and the child of the weighted service.
func MemberService(app, member string) string { return app + "-" + member }

// takesGeneratedName reports whether a member's service would take the name of a
// service the provider emits itself: the round-robin one. Such a member is left out.
func takesGeneratedName(app, member string) bool {
	return MemberService(app, member) == RoundRobinService(app)
}

// WeightedService returns the name of the app's sticky weighted service (and router).
func WeightedService(app string) string { return app }

// RoundRobinService returns the name of the app's plain round-robin service over the
// same members (and of the router that sends stateless requests to it).
func RoundRobinService(app string) string { return app + "-roundrobin" }

// StripMiddleware returns the name of the compiled headers middleware that removes the
// affinity header from the requests of the round-robin router.
func StripMiddleware(app string) string { return app + "-strip" }

// AffinityMiddleware returns the name of the app's affinity middleware.
func AffinityMiddleware(app string) string { return app + "-affinity" }

// StickyCookie returns the name of the weighted service's sticky cookie.
func StickyCookie(app string) string { return app + "_affinity" }
