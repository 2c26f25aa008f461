package config

import (
	"fmt"

	"github.com/approov-gateway/approov"
)

// LoadKeys reads every configured verification key: the top-level secret
// or public key and the keys list. Warnings are about secret files other
// users can read; problems name the setting, never a value.
func LoadKeys(cfg *Config) (keys []*approov.Key, warnings []string, err error) {
	var problems Problems
	// name gives the setting as the user wrote it: for top-level keys,
	// the YAML key at its line when the value came from the file, else
	// the environment variable; for the keys list, the element's field
	// at its line.
	load := func(name func(setting string) string, id, b64, b64url, file, pubFile string) {
		var k *approov.Key
		var err error
		var where string
		switch {
		case b64 != "":
			where = name("base64_secret")
			k, err = secretKey(id, b64)
		case b64url != "":
			where = name("base64url_secret")
			k, err = secretKey(id, b64url)
		case file != "":
			where = name("secret_file")
			var data []byte
			var warning string
			if data, warning, err = ReadKeyFile(where, file, true); err == nil {
				k, err = secretKey(id, string(data))
			} else {
				where = ""
			}
			if warning != "" {
				warnings = append(warnings, warning)
			}
		case pubFile != "":
			where = name("public_key_file")
			var data []byte
			if data, _, err = ReadKeyFile(where, pubFile, false); err == nil {
				k, err = approov.ParsePublicKey(id, data)
			} else {
				where = ""
			}
		default:
			return
		}
		if err != nil {
			msg := ErrorText(err)
			if where != "" {
				msg = where + ": " + msg
			}
			problems = append(problems, msg)
			return
		}
		keys = append(keys, k)
	}
	topLevel := func(s string) string {
		if at := cfg.at(s); at != "" {
			return at + s
		}
		return envName(s)
	}
	load(topLevel, cfg.KeyID, cfg.Base64Secret, cfg.Base64URLSecret, cfg.SecretFile, cfg.PublicKeyFile)
	for i, k := range cfg.Keys {
		load(func(s string) string {
			return cfg.at(fmt.Sprintf("keys[%d].%s", i, s)) + cfg.itemName("keys", i) + "." + s
		}, k.ID, k.Base64Secret, k.Base64URLSecret, k.SecretFile, k.PublicKeyFile)
	}
	if len(problems) > 0 {
		return keys, warnings, problems
	}
	return keys, warnings, nil
}

func secretKey(id, encoded string) (*approov.Key, error) {
	secret, err := approov.DecodeSecret(encoded)
	if err != nil {
		return nil, err
	}
	return approov.NewSecretKey(id, secret)
}
