package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/approov-gateway/approov/approovtest"
	"github.com/approov-gateway/approov/internal/config"
	"github.com/approov-gateway/approov/msgsig"
)

const installKeyUsage = `Usage:
  approov-gateway install-key gen          print a new installation key: a P-256
                                           private key in PEM (PKCS #8)
  approov-gateway install-key ipk KEY.pem  print the ipk claim of a key: base64 of
                                           the DER SubjectPublicKeyInfo of its public key

An installation key stands in for the key an app's installation holds in
secure hardware: token gen --ipk KEY.pem puts its public key in a token,
and sign --install-key KEY.pem signs requests with it (label install).

  approov-gateway install-key gen > device.pem
  approov-gateway token gen --ipk device.pem
`

// installKey runs install-key gen and install-key ipk.
func installKey(args []string, stdio IO) int {
	const cmd = "install-key"
	if len(args) == 0 {
		return fail(stdio.Stderr, cmd, exitUsage, "want gen or ipk (see approov-gateway help install-key)")
	}
	if isHelp(args[0]) || args[0] == "help" {
		fmt.Fprint(stdio.Stdout, installKeyUsage)
		return exitOK
	}
	if args[0] != "gen" && args[0] != "ipk" {
		return fail(stdio.Stderr, cmd, exitUsage, "unknown command %q (want gen or ipk)", args[0])
	}
	sub := cmd + " " + args[0]
	positional, status, ok := parseCommand(newCommandFlags(sub), args[1:], stdio, installKeyUsage, cmd)
	if !ok {
		return status
	}
	switch args[0] {
	case "gen":
		if len(positional) > 0 {
			return fail(stdio.Stderr, sub, exitUsage, "unexpected argument %q", positional[0])
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return fail(stdio.Stderr, sub, exitFailure, "%v", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return fail(stdio.Stderr, sub, exitFailure, "%v", err)
		}
		pem.Encode(stdio.Stdout, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
		return exitOK
	}
	if len(positional) != 1 {
		return fail(stdio.Stderr, sub, exitUsage, "want one argument, the PEM file of the key")
	}
	key, err := loadInstallKey(positional[0])
	if err != nil {
		return fail(stdio.Stderr, sub, exitUsage, "%v", err)
	}
	ipk, err := msgsig.InstallationPublicKey(&key.PublicKey)
	if err != nil {
		return fail(stdio.Stderr, sub, exitUsage, "%s", msgsigText(err))
	}
	fmt.Fprintln(stdio.Stdout, ipk)
	return exitOK
}

// loadInstallKey reads a PEM P-256 private key (PKCS #8 or SEC 1). Errors
// name the file, never its content.
func loadInstallKey(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, config.ErrorText(err))
	}
	key, err := approovtest.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, config.ErrorText(err))
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%s: not a P-256 key (make one with approov-gateway install-key gen)", path)
	}
	return ec, nil
}

// The environment variables of the account message signing key, which
// serve reads too, in the order they are looked up.
var accountKeyEnv = []string{"APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64URL", "APPROOV_ACCOUNT_MESSAGE_SIGNING_SECRET_BASE64"}

// accountKeyFrom resolves the account message signing key: the flag, the
// file flag, then, when fromEnv, the environment (.env included) as serve
// reads it. It returns nil without error when there is none, and the
// name of where the key came from. Errors never contain the key.
func accountKeyFrom(value, file string, fromEnv bool) ([]byte, string, error) {
	decode := func(s, from string) ([]byte, string, error) {
		b, err := msgsig.DecodeAccountKey(s)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %s", from, config.ErrorText(err))
		}
		return b, from, nil
	}
	switch {
	case value != "" && file != "":
		return nil, "", errors.New("use --account-key or --account-key-file, not both")
	case value != "":
		return decode(value, "--account-key")
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, "", fmt.Errorf("--account-key-file %s: %s", file, config.ErrorText(err))
		}
		return decode(string(data), "--account-key-file "+file)
	case !fromEnv:
		return nil, "", nil
	}
	src := config.OSSource(nil)
	for _, name := range accountKeyEnv {
		v, ok, err := src.Lookup(name)
		if err != nil {
			return nil, "", err
		}
		if ok && v != "" {
			return decode(v, name)
		}
	}
	return nil, "", nil
}
