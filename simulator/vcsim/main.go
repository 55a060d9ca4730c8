// Command vcsim is Accord's vCenter simulator: govmomi's simulator package (Debian's
// golang-github-vmware-govmomi-dev, 0.24.2) with the inventory Accord's sim target needs.
//
// One datacenter (DC0) with -hosts standalone ESXi hosts (DC0_H0, DC0_H1, ...), one local
// datastore (LocalDS_0), no clusters, no distributed switch and no virtual machines: the
// seeding (simulator/vcsim/seed.py) creates what a deployment has through the SOAP API.
//
// It serves HTTPS on a loopback address with a certificate made at start (ECDSA P-256,
// SAN: the listening IP and "localhost"), writes that certificate to -cert-file, then prints
// one line, the URL with the credentials: https://USER:PASSWORD@127.0.0.1:PORT/sdk.
// (Without a certificate of its own, vcsim serves Go's test certificate: RSA-1024, CA:TRUE,
// "Acme Co", a private key published in Go's source; Python's default context refuses it with
// "EE certificate key too weak".)
// Only that user and password log in. SIGTERM or SIGINT (or, with -exit-with-stdin, the end
// of standard input) stops it and removes the datastore's temporary directory.
//
// host.go adds what vcsim 0.24.2 lacks for the guide's host checks (see its comment).
//
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build -o vcsim main.go host.go
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

// PasswordEnv is read when -password is not given, so the password need not appear in
// the process list.
const PasswordEnv = "VCSIM_PASSWORD"

type options struct {
	listen         string
	hosts          int
	singleNicHosts int
	username       string
	password       string
	certFile       string
	exitWithStdin  bool
}

func parseFlags() (options, error) {
	var o options
	flag.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback address and port (port 0: a free port)")
	flag.IntVar(&o.hosts, "hosts", 1, "number of standalone ESXi hosts")
	flag.IntVar(&o.singleNicHosts, "single-nic-hosts", 0, "how many of them (the last) have one physical NIC")
	flag.StringVar(&o.username, "username", "user", "the only user name that logs in")
	flag.StringVar(&o.password, "password", "", "its password (default: $"+PasswordEnv+")")
	flag.StringVar(&o.certFile, "cert-file", "", "where to write the served certificate (PEM)")
	flag.BoolVar(&o.exitWithStdin, "exit-with-stdin", false, "stop when standard input ends")
	flag.Parse()

	if o.password == "" {
		o.password = os.Getenv(PasswordEnv)
	}
	switch {
	case o.hosts < 1:
		return o, errors.New("-hosts must be at least 1")
	case o.singleNicHosts < 0 || o.singleNicHosts > o.hosts:
		return o, errors.New("-single-nic-hosts must be between 0 and -hosts")
	case o.username == "" || o.password == "":
		return o, errors.New("a user name and a password are required (-password or $" + PasswordEnv + ")")
	case o.certFile == "":
		return o, errors.New("-cert-file is required")
	}
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return o, fmt.Errorf("-listen %q: %v", o.listen, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return o, fmt.Errorf("-listen %q: not a loopback IP address", o.listen)
	}
	return o, nil
}

// selfSigned makes a server certificate for ip (and "localhost") and its key.
func selfSigned(ip net.IP) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	public, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyID := sha1.Sum(public)
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "vcsim", Organization: []string{"Accord simulator"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		SubjectKeyId:          keyID[:],
		AuthorityKeyId:        keyID[:],
		IPAddresses:           []net.IP{ip},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// writeFileAtomic writes data to path through a temporary file in the same directory.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".vcsim-cert-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err = tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func run(o options) error {
	// Before anything else: a signal that arrives early still stops cleanly.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)

	model := simulator.VPX()
	model.Datacenter = 1
	model.Host = o.hosts
	model.Cluster = 0
	model.ClusterHost = 0
	model.Pool = 0
	model.App = 0
	model.Pod = 0
	model.Portgroup = 0
	model.PortgroupNSX = 0
	model.OpaqueNetwork = 0
	model.Folder = 0
	model.Datastore = 1
	model.Machine = 0
	model.Autostart = false
	defer model.Remove()

	if err := model.Create(); err != nil {
		return fmt.Errorf("creating the inventory: %v", err)
	}
	extendHosts()
	singleNic(o.singleNicHosts)

	host, _, _ := net.SplitHostPort(o.listen)
	cert, err := selfSigned(net.ParseIP(host))
	if err != nil {
		return fmt.Errorf("making the certificate: %v", err)
	}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	model.Service.Listen = &url.URL{Host: o.listen, User: url.UserPassword(o.username, o.password)}

	server := model.Service.NewServer()
	defer server.Close()

	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	if err = writeFileAtomic(o.certFile, certPEM); err != nil {
		return fmt.Errorf("writing %s: %v", o.certFile, err)
	}

	fmt.Println(server.URL.String())

	if o.exitWithStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop <- syscall.SIGTERM
		}()
	}
	<-stop
	return nil
}

func main() {
	o, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "vcsim:", err)
		os.Exit(2)
	}
	if err = run(o); err != nil {
		fmt.Fprintln(os.Stderr, "vcsim:", err)
		os.Exit(1)
	}
}
