// Package kubeapi runs a real kube-apiserver backed by etcd on 127.0.0.1 for tests.
// No controllers run: tests create the objects they need (Services, EndpointSlices)
// themselves, each in a fresh namespace. The binaries come from
// scripts/install-kube.sh, cached under $STOREAFFINITY_CACHE (default <repo>/.cache).
//
// Typical use: Start once from TestMain (or lazily behind a sync.Once), Namespace per
// test, Stop at the end. The API server rejects EndpointSlice addresses in 127.0.0.0/8,
// so slices carry addresses such as 10.0.0.1 (reachable backends need another way in).
package kubeapi

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Token is the bearer token of the harness's cluster administrator.
const Token = "storeaffinity-test-admin-token"

// Server is a running etcd and kube-apiserver pair.
type Server struct {
	// Endpoint is the API server's URL, https://127.0.0.1:<port>.
	Endpoint string
	// Token authenticates as a member of system:masters.
	Token string
	// CAFile holds the API server's self-signed certificate and its CA.
	CAFile string
	// Client is a client-go clientset for Endpoint.
	Client *kubernetes.Clientset
	// Dir holds the servers' data, certificates and logs.
	Dir string

	binDir   string
	etcdURL  string
	apiPort  int
	etcd     *exec.Cmd
	api      *exec.Cmd
	apiLog   *os.File
	etcdLog  *os.File
	nsSerial int
}

// BinDir returns the folder holding etcd and kube-apiserver, building them on the
// first run (about 10 minutes) through scripts/install-kube.sh.
func BinDir() (string, error) {
	return stack.InstallTool("install-kube.sh")
}

// Start starts etcd and kube-apiserver in a new temporary folder and waits until the
// API server is ready (about 5 s). Call Stop when done, typically from TestMain.
func Start() (*Server, error) {
	binDir, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubeapi-")
	if err != nil {
		return nil, err
	}
	s := &Server{Token: Token, Dir: dir, binDir: binDir}
	if err := s.start(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start() error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	s.etcdURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	s.apiPort = ports[2]
	s.Endpoint = "https://127.0.0.1:" + strconv.Itoa(s.apiPort)
	s.CAFile = filepath.Join(s.Dir, "certs", "apiserver.crt")

	if s.etcdLog, err = os.Create(filepath.Join(s.Dir, "etcd.log")); err != nil {
		return err
	}
	s.etcd = exec.Command(filepath.Join(s.binDir, "etcd"),
		"--name=default", "--data-dir="+filepath.Join(s.Dir, "etcd"),
		"--listen-client-urls="+s.etcdURL, "--advertise-client-urls="+s.etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL, "--unsafe-no-fsync=true", "--log-level=warn")
	s.etcd.Stdout, s.etcd.Stderr = s.etcdLog, s.etcdLog
	s.etcd.SysProcAttr = serverProcAttr()
	if err := s.etcd.Start(); err != nil {
		return fmt.Errorf("start etcd: %w", err)
	}
	if err := stack.Poll(context.Background(), 30*time.Second, func(ctx context.Context) error {
		return answersOK(ctx, &http.Client{Timeout: 2 * time.Second}, s.etcdURL+"/health")
	}); err != nil {
		return fmt.Errorf("etcd not healthy (see %s): %w", s.etcdLog.Name(), err)
	}

	if err := os.WriteFile(filepath.Join(s.Dir, "tokens.csv"), []byte(Token+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		return err
	}
	if err := writeServiceAccountKey(filepath.Join(s.Dir, "sa.key")); err != nil {
		return err
	}
	if err := s.StartAPIServer(); err != nil {
		return err
	}
	config := &rest.Config{Host: s.Endpoint, BearerToken: Token, TLSClientConfig: rest.TLSClientConfig{CAFile: s.CAFile}}
	s.Client, err = kubernetes.NewForConfig(config)
	return err
}

// StartAPIServer starts kube-apiserver (again, after StopAPIServer) on the same port
// and waits until it is ready.
func (s *Server) StartAPIServer() error {
	var err error
	if s.apiLog, err = os.OpenFile(filepath.Join(s.Dir, "kube-apiserver.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return err
	}
	saKey := filepath.Join(s.Dir, "sa.key")
	s.api = exec.Command(filepath.Join(s.binDir, "kube-apiserver"),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(s.apiPort), "--cert-dir="+filepath.Join(s.Dir, "certs"),
		"--etcd-servers="+s.etcdURL, "--endpoint-reconciler-type=none",
		"--token-auth-file="+filepath.Join(s.Dir, "tokens.csv"), "--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saKey, "--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range=10.96.0.0/16", "--disable-admission-plugins=ServiceAccount",
		"--v=1")
	s.api.Stdout, s.api.Stderr = s.apiLog, s.apiLog
	s.api.SysProcAttr = serverProcAttr()
	if err := s.api.Start(); err != nil {
		return fmt.Errorf("start kube-apiserver: %w", err)
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if err := stack.Poll(context.Background(), 60*time.Second, func(ctx context.Context) error {
		return answersOK(ctx, client, s.Endpoint+"/readyz")
	}); err != nil {
		return fmt.Errorf("kube-apiserver not ready (see %s): %w", s.apiLog.Name(), err)
	}
	return nil
}

// StopAPIServer stops kube-apiserver, leaving etcd and its data in place.
func (s *Server) StopAPIServer() {
	stop(s.api)
	s.api = nil
	if s.apiLog != nil {
		s.apiLog.Close()
	}
}

// Stop stops both servers and removes their folder.
func (s *Server) Stop() {
	s.StopAPIServer()
	stop(s.etcd)
	s.etcd = nil
	if s.etcdLog != nil {
		s.etcdLog.Close()
	}
	if os.Getenv("KUBEAPI_KEEP") == "" {
		_ = os.RemoveAll(s.Dir)
	}
}

// Namespace creates a fresh namespace named after the test. Namespaces are not
// deleted: no namespace controller runs to finish a deletion.
func (s *Server) Namespace(ctx context.Context, prefix string) (string, error) {
	s.nsSerial++
	name := fmt.Sprintf("%s-%d-%d", sanitize(prefix), s.nsSerial, time.Now().UnixNano()%100000)
	ns := namespaceObject(name)
	_, err := s.Client.CoreV1().Namespaces().Create(ctx, ns, createOptions)
	return name, err
}
