package kubernetes

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// missingPermission is what the API server names when the RoleBinding is gone.
const missingPermission = `cannot list resource "endpointslices" in API group "discovery.k8s.io" in the namespace "commerce"`

// testRBAC checks the provider's TokenRequest token (the one Traefik routed with) for
// exactly the Role's rights, then deletes the RoleBinding and runs our provider again
// with the same token: it must log an error that names the missing permission and
// emit no configuration at all.
func (c *cluster) testRBAC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tokenFile := c.tokenFile(t, "storeaffinity-provider")
	for path, want := range map[string]int{
		"/apis/discovery.k8s.io/v1/namespaces/commerce/endpointslices":                          http.StatusOK,
		"/apis/discovery.k8s.io/v1/namespaces/commerce/endpointslices?watch=1&timeoutSeconds=1": http.StatusOK,
		"/apis/discovery.k8s.io/v1/namespaces/traefik/endpointslices":                           http.StatusForbidden,
		"/api/v1/namespaces/commerce/pods":                                                      http.StatusForbidden,
		"/api/v1/namespaces/commerce/services":                                                  http.StatusForbidden,
		"/api/v1/namespaces/traefik/secrets":                                                    http.StatusForbidden,
	} {
		if got := c.statusWithToken(ctx, t, tokenFile, path); got != want {
			t.Errorf("the provider's token: GET %s = %d, want %d", path, got, want)
		}
	}

	err := c.server.Client.RbacV1().RoleBindings("commerce").Delete(ctx, "storeaffinity-provider", metav1.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	traefik := stack.TraefikForTest(t, stack.TraefikOptions{LogLevel: "INFO", Provider: map[string]any{
		"middlewarePlugin": stack.MiddlewareAlias,
		"apps": []any{map[string]any{
			"name": "pos", "deviceAffinityPrefixes": []string{"/api/appId/pos/deviceId"},
			"kubernetes": map[string]any{"namespace": "commerce", "service": "pos", "port": "http",
				"endpoint": c.server.Endpoint, "tokenFile": tokenFile, "certAuthFilePath": c.server.CAFile},
		}},
	}})
	// The provider quotes the API server's Status body, JSON escapes included.
	logged := func() string { return strings.ReplaceAll(traefik.Log(), `\"`, `"`) }
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logged(), missingPermission) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(logged(), missingPermission) {
		t.Fatalf("without the RoleBinding, the provider logged no error naming %q; log:\n%s", missingPermission, traefik.LogTail(20))
	}
	for _, line := range strings.Split(logged(), "\n") {
		if strings.Contains(line, missingPermission) {
			t.Logf("without the RoleBinding: %s", line)
			break
		}
	}
	time.Sleep(3 * time.Second) // past Traefik's 2 s throttle
	for kind, name := range map[string]string{stack.Services: "pos" + stack.ProviderObjectAt, stack.Middlewares: "pos-affinity" + stack.ProviderObjectAt} {
		if o, err := traefik.API.Get(ctx, kind, name); err == nil {
			t.Errorf("without the RoleBinding, Traefik has %s %s: %+v", kind, name, o)
		}
	}
}

// statusWithToken returns the status of GET path on the API server with the token in file.
func (c *cluster) statusWithToken(ctx context.Context, t *testing.T, file, path string) int {
	t.Helper()
	token := strings.TrimSpace(readFile(t, file))
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.server.Endpoint+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := apiClient(t, c.server.CAFile).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
